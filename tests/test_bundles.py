"""The student bundle and Gradescope's autograder.zip, built and then used as their users will."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SOLUTIONS, course_config, solution_text, with_change, write

from grader import stubs

SEED = str(course_config().seed)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("release") / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(outdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return outdir


def solution_code_lines() -> set[str]:
    """Lines of the solution blocks that say something (not a lone bracket or `return Y`)."""
    lines = set()
    for solution in SOLUTIONS.glob("*.py"):
        for block in solution.read_text().split(stubs.BEGIN)[1:]:
            lines |= {
                line.strip()
                for line in block.split(stubs.END)[0].splitlines()
                if len(line.strip()) >= 12 and not line.strip().startswith("#")
            }
    return lines


def test_the_bundle_holds_no_solution_no_seed_and_no_hidden_values(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert not any("solution" in part for p in files for part in p.relative_to(bundle).parts)
    secret_lines = solution_code_lines()
    for path in files:
        text = path.read_text()
        assert SEED not in text, f"the seed is in {path}"
        code = {line.strip() for line in text.splitlines() if not line.strip().startswith("#")}
        if path.suffix == ".ipynb":
            code = {
                line.strip()
                for cell in json.loads(text)["cells"]
                if cell["cell_type"] == "code"
                for line in "".join(cell["source"]).split("\n")
            }
        assert not (secret_lines & code), f"solution code in {path}: {secret_lines & code}"
    assert "seed" not in yaml.safe_load((bundle / "config.yaml").read_text())
    assert sorted(p.name for p in (bundle / "exercises").iterdir()) == sorted(
        stubs.exercise_files(SOLUTIONS)
    )


def test_the_workflow_has_a_graded_step_per_exercise_and_a_reporter(bundle):
    workflow = yaml.safe_load((bundle / ".github/workflows/classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [
        s
        for s in steps
        if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")
    ]
    config = course_config()
    assert [s["with"]["test-name"] for s in graders] == [e.name for e in config.exercises]
    assert sum(s["with"]["max-score"] for s in graders) == 100
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter")
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory, bundle) -> Path:
    """A new virtual environment with nothing but what the bundle installs."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-e", str(bundle)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return python


def run_in(bundle: Path, python: Path, command: str, **env) -> subprocess.CompletedProcess:
    """A command line as a student's shell or CI runs it, with the fresh environment first."""
    path = f"{python.parent}:{os.environ['PATH']}"
    return subprocess.run(
        command,
        shell=True,
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": path, "HOME": str(bundle), **env},
    )


def test_check_works_from_the_bundle_in_a_fresh_environment(bundle, fresh_python, tmp_path):
    stubbed = run_in(bundle, fresh_python, "python -m grader check exercises")
    assert stubbed.returncode == 0, stubbed.stderr
    assert "0 of 8 exercises pass their public cases" in stubbed.stdout
    finished = tmp_path / "finished"
    shutil.copytree(bundle, finished, ignore=shutil.ignore_patterns("*.egg-info"))
    for name in ("conv_layer.py", "padding_and_strides.py", "channels.py"):
        shutil.copy(SOLUTIONS / name, finished / "exercises" / name)
    done = run_in(finished, fresh_python, "python -m grader check exercises")
    assert "8 of 8 exercises pass their public cases" in done.stdout, done.stdout + done.stderr


def test_the_workflow_command_lines_grade_and_exit_as_classroom_expects(
    bundle, fresh_python, tmp_path
):
    workflow = yaml.safe_load((bundle / ".github/workflows/classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    commands = {
        s["with"]["test-name"]: s["with"]["command"]
        for s in steps
        if "with" in s and "command" in s["with"]
    }
    install = next(s["run"] for s in steps if "run" in s)
    assert run_in(bundle, fresh_python, install).returncode == 0

    student = tmp_path / "student"
    shutil.copytree(bundle, student, ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(SOLUTIONS / "conv_layer.py", student / "exercises" / "conv_layer.py")
    summary = tmp_path / "summary.md"
    results = {
        name: run_in(
            student, fresh_python, command, GRADER_SEED="", GITHUB_STEP_SUMMARY=str(summary)
        )
        for name, command in commands.items()
    }
    passing = {name for name, done in results.items() if done.returncode == 0}
    assert passing == {"corr2d", "Conv2D", "learn_kernel"}, {
        name: done.stderr[-300:] for name, done in results.items() if done.returncode not in (0, 1)
    }
    assert all(done.returncode == 1 for name, done in results.items() if name not in passing)
    assert summary.read_text().count("## Autograder:") == len(commands)


def test_run_autograder_writes_gradescope_results(tmp_path):
    archive = tmp_path / "autograder.zip"
    subprocess.run(
        [sys.executable, "-m", "grader", "autograder-zip", str(archive)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in opened.infolist()}
        root = tmp_path / "autograder"
        opened.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt", "config.yaml"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any(name.startswith(("solutions", "tests")) for name in names)
    text = with_change(
        solution_text(),
        "corr2d(x, self.weight.data()) + self.bias.data()",
        "corr2d(x, self.weight.data())",
    )
    (root / "submission").mkdir()
    write(root / "submission", "hw.py", text)

    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert 0 < results["score"] < 100
    conv2d = [t for t in results["tests"] if t["name"].startswith("Conv2D:")]
    assert any(t["status"] == "failed" for t in conv2d)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert all(
        t["status"] == "passed" for t in results["tests"] if not t["name"].startswith("Conv2D:")
    )
