"""A class graded with `batch`: every row, every report, interrupted and resumed, and on Dask."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from bugs import buggy_text
from conftest import (
    EXERCISE_NAMES,
    EXERCISES,
    SOLUTIONS,
    small_config_file,
    solution_text,
    write,
)


def make_class(folder: Path) -> dict[str, float]:
    """A mixed class; returns each submission's expected total."""
    folder.mkdir()
    shutil.copytree(SOLUTIONS, folder / "alice")  # a folder, all correct
    write(folder, "bob.py", buggy_text("bias-missing"))  # Conv2D loses points
    write(folder, "carol.py", "def corr2d(X, K)\n    return X\n")  # a syntax error
    write(folder, "dave.txt", "I did the exercises on paper.")  # not code
    write(
        folder,
        "erin.py",
        solution_text().replace(  # hostile: exits during corr2d
            "    h, w = K.shape\n", "    import os; os._exit(0)\n", 1
        ),
    )
    write(folder, "frank.py", solution_text() + "\nwhile True:\n    pass\n")  # hangs loading
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(solution_text())]
    nbformat.write(notebook, folder / "grace.ipynb")  # a notebook, all correct
    shutil.copytree(EXERCISES, folder / "heidi")  # the untouched stubs
    return {
        "alice": 100,
        "carol.py": 0,
        "dave.txt": 0,
        "frank.py": 100,
        "grace.ipynb": 100,
        "heidi": 0,
    }


BATCH = [sys.executable, "-m", "grader", "batch"]


def batch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*BATCH, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def gradebook(path: Path) -> list[dict]:
    """The CSV's rows without the timing column."""
    with open(path, newline="") as opened:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(opened)]


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    expected = make_class(root / "class")
    config = small_config_file(root, load_seconds=3)
    done = batch(
        str(root / "class"),
        "--output",
        str(root / "grades.csv"),
        "--jobs",
        "2",
        "--config",
        str(config),
        "--isolation",
        "strict",
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    return root, expected, done


def test_every_submission_gets_a_row_and_a_report(graded_class):
    root, expected, done = graded_class
    rows = {row["id"]: row for row in gradebook(root / "grades.csv")}
    assert sorted(rows) == sorted(p.name for p in (root / "class").iterdir())
    assert list(next(iter(rows.values()))) == ["id", "total", "max", *EXERCISE_NAMES, "status"]
    for name, total in expected.items():
        assert float(rows[name]["total"]) == total, (name, rows[name])
    assert 0 < float(rows["bob.py"]["total"]) < 100 and float(rows["bob.py"]["Conv2D"]) < 10
    assert (
        float(rows["erin.py"]["corr2d"]) == 0 and float(rows["erin.py"]["conv_output_shape"]) == 10
    )
    assert rows["dave.txt"]["status"].startswith("nothing defined: dave.txt is not a .py file")
    assert "SyntaxError" in rows["carol.py"]["status"]
    assert all(rows[n]["status"] == "ok" for n in ("alice", "bob.py", "grace.ipynb", "heidi"))
    for name in rows:
        report = json.loads((root / "grades-reports" / f"{name}.json").read_text())
        assert report["submission"] == name and float(rows[name]["total"]) == report["score"]
        assert [e["name"] for e in report["exercises"]] == EXERCISE_NAMES


def test_each_student_gets_a_page_and_the_class_an_overview(graded_class):
    root, _, _ = graded_class
    reports = root / "grades-reports"
    rows = gradebook(root / "grades.csv")
    overview = (reports / "index.html").read_text()
    for row in rows:
        page = (reports / f"{row['id']}.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and row["id"] in page
        assert f'href="{quote(row["id"])}.html"' in overview
    corr2d_full = sum(float(row["corr2d"]) == 15 for row in rows)
    assert f"<td>corr2d</td><td class='num'>{corr2d_full}/{len(rows)}</td>" in overview
    assert re.search(r"<td class='num'>1</td><td>Conv2D</td><td>the bias is missing", overview)
    assert 'aria-label="score distribution"' in overview


def test_without_a_terminal_progress_is_a_line_per_submission(graded_class):
    _, expected, done = graded_class
    lines = [line for line in done.stderr.splitlines() if line.startswith("graded ")]
    assert len(lines) == 8 and lines[-1].endswith("[8/8]")
    assert "8 submissions in" in done.stderr


def test_an_interrupted_batch_resumes_to_the_same_gradebook(graded_class, tmp_path):
    root, _, _ = graded_class
    folder = tmp_path / "class"
    shutil.copytree(root / "class", folder, ignore=shutil.ignore_patterns("frank.py"))
    config = small_config_file(tmp_path, load_seconds=3)
    output, reports = tmp_path / "grades.csv", tmp_path / "grades-reports"
    command = [
        *BATCH,
        str(folder),
        "--output",
        str(output),
        "--jobs",
        "1",
        "--config",
        str(config),
        "--isolation",
        "strict",
    ]
    first = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(list(reports.glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    survived = {p.name: p.stat().st_mtime_ns for p in reports.glob("*.json")}
    assert 3 <= len(survived) < 7, "killed midway"
    kept = {f"{row['id']}.json" for row in gradebook(output)}
    # Every row the gradebook holds has its report. The gradebook may lag: a pool process
    # writes each report, and the batch rewrites the gradebook only when that row comes back,
    # so quick submissions (carol's syntax error, dave's text) can all land in between.
    # Resume finds those from their reports.
    assert kept <= set(survived)

    resumed = subprocess.run(
        [*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert {
        p.name: p.stat().st_mtime_ns for p in reports.glob("*.json") if p.name in survived
    } == survived, "nothing graded twice"
    regraded = [line for line in resumed.stderr.splitlines() if line.startswith("graded ")]
    assert len(regraded) == 7 - len(survived)
    uninterrupted = [row for row in gradebook(root / "grades.csv") if row["id"] != "frank.py"]
    assert gradebook(output) == uninterrupted
    overview = (reports / "index.html").read_text()
    assert all(f'href="{quote(row["id"])}.html"' in overview for row in uninterrupted)


def test_a_local_dask_cluster_gives_the_same_gradebook(graded_class, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, _, _ = graded_class
    folder = tmp_path / "class"
    shutil.copytree(root / "class", folder, ignore=shutil.ignore_patterns("frank.py", "erin.py"))
    config = small_config_file(tmp_path, load_seconds=3)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as cluster:
        done = batch(
            str(folder),
            "--output",
            str(tmp_path / "grades.csv"),
            "--config",
            str(config),
            "--isolation",
            "strict",
            "--scheduler",
            cluster.scheduler_address,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    local = [r for r in gradebook(root / "grades.csv") if r["id"] not in ("frank.py", "erin.py")]
    assert gradebook(tmp_path / "grades.csv") == local


def test_a_missing_folder_is_a_usage_error(tmp_path):
    done = batch(str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode == 2 and "not a folder of submissions" in done.stderr


def canvas_export(path: Path) -> Path:
    """A Canvas "Download Submissions" zip: flat files named by student, one of them an
    nbformat 3 notebook, one a zip whose work sits a folder down."""
    old_notebook = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": [{"cell_type": "code", "input": solution_text()}]}],
    }
    inner = path.with_name("inner.zip")
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("hw3/conv_layer.py", (EXERCISES / "conv_layer.py").read_text())
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(SOLUTIONS / "conv_layer.py", "smithjane_1201_9001_conv_layer.py")
        archive.writestr("lópezana_1202_9050_hw.ipynb", json.dumps(old_notebook))
        archive.write(inner, "doejohn_LATE_1203_9060_work.zip")
    return path


def test_a_canvas_zip_grades_with_one_command_a_row_per_student(tmp_path):
    export = canvas_export(tmp_path / "submissions.zip")
    config = small_config_file(tmp_path)
    output = tmp_path / "grades.csv"
    done = batch(
        str(export), "--output", str(output), "--config", str(config), "--only", "corr2d",
        "--jobs", "2", "--isolation", "strict", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in gradebook(output)}
    assert {id: float(row["total"]) for id, row in rows.items()} == {
        "1201": 15.0,
        "1202": 15.0,
        "1203": 0.0,
    }
    assert all(row["status"] == "ok" for row in rows.values())
    assert "3 submissions in" in done.stderr
