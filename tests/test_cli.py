"""The command line as a user runs it: real child processes, real exit codes."""

import json
import os
import subprocess
import sys

from conftest import ROOT, SOLUTIONS, solution_text, write

TEST_SEED = "5"


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_json_output_is_exactly_one_document_with_the_schema(tmp_path):
    submission = write(tmp_path, "mine.py", "def corr2d(X, K):\n    return X\n")
    result = run(
        "grade", str(submission), "--format", "json", "--seed", TEST_SEED, "--device", "cpu"
    )
    assert result.returncode == 0
    report = json.loads(result.stdout)  # fails on anything before or after the document
    assert {"submission", "score", "max_score", "seed", "exercises"} <= set(report)
    assert report["submission"] == "mine.py" and report["seed"] == 5
    assert len(report["exercises"]) == 8
    for exercise in report["exercises"]:
        assert {"name", "score", "max_score", "tests"} <= set(exercise)
        for test in exercise["tests"]:
            assert {
                "name",
                "status",
                "score",
                "max_score",
                "message",
                "device",
                "visibility",
            } <= set(test)
            assert test["status"] in {"passed", "failed", "error", "timeout", "skipped"}
            assert test["visibility"] in {"visible", "hidden"}
    assert report["score"] == round(sum(e["score"] for e in report["exercises"]), 4)
    assert report["max_score"] == 100 and report["score"] < 100


def test_output_file_and_table(tmp_path):
    out = tmp_path / "reports" / "solutions.json"
    result = run(
        "grade", str(SOLUTIONS), "--format", "json", "--output", str(out), "--device", "cpu"
    )
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(out.read_text())["score"] == 100
    table = run("grade", str(SOLUTIONS), "--device", "cpu")
    assert table.returncode == 0
    assert "corr2d_multi_in_out_1x1" in table.stdout and "100/100" in table.stdout


def test_a_zero_score_still_exits_0_and_bad_usage_exits_2(tmp_path):
    empty = write(tmp_path, "empty.py", "")
    assert run("grade", str(empty), "--device", "cpu").returncode == 0
    missing = run("grade", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run("grade", str(empty), "--format", "xml").returncode == 2
    assert run("grade").returncode == 2


def test_exercises_check_reports_drift(tmp_path):
    assert run("exercises", "--check").returncode == 0
    out = tmp_path / "exercises"
    assert run("exercises", "--exercises", str(out)).returncode == 0
    (out / "channels.py").write_text("edited")
    drift = run("exercises", "--check", "--exercises", str(out))
    assert drift.returncode == 1 and "channels.py differs" in drift.stdout


def test_fail_under_sets_the_exit_code(tmp_path):
    partial = write(tmp_path, "partial.py", solution_text().split("class Conv2D")[0])
    common = ["grade", str(partial), "--device", "cpu", "--format", "json"]
    below = run(*common, "--fail-under", "20")
    assert below.returncode == 1 and json.loads(below.stdout)["score"] == 15
    assert run(*common, "--fail-under", "15").returncode == 0
    assert run(*common, "--fail-under", "lots").returncode == 2


def test_only_grades_the_named_exercises_and_refuses_unknown_names():
    done = run(
        "grade",
        str(SOLUTIONS),
        "--device",
        "cpu",
        "--format",
        "json",
        "--only",
        "conv_output_shape,corr2d",
    )
    report = json.loads(done.stdout)
    assert [e["name"] for e in report["exercises"]] == ["corr2d", "conv_output_shape"]
    assert report["max_score"] == 25 == report["score"]
    unknown = run("grade", str(SOLUTIONS), "--only", "corr3d")
    assert unknown.returncode == 2 and "--only: corr3d is not configured" in unknown.stderr


def test_check_defaults_to_exercises_and_uses_public_cases_only():
    done = run("check")
    assert done.returncode == 0
    assert "Checking exercises against the public cases" in done.stdout
    assert "0 of 8 exercises pass their public cases" in done.stdout


def test_junit_and_markdown_formats_from_the_command_line(tmp_path):
    summary = tmp_path / "summary.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(SOLUTIONS),
            "--device",
            "cpu",
            "--format",
            "markdown",
            "--only",
            "corr2d",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 0 and done.stdout == summary.read_text()
    assert "| **total** | **15/15** | |" in done.stdout
    junit = run("grade", str(SOLUTIONS), "--device", "cpu", "--format", "junit", "--only", "corr2d")
    assert junit.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')


def test_an_html_report_from_the_command_line(tmp_path):
    submission = write(tmp_path, "mine.py", "def corr2d(X, K):\n    return X\n")
    page = tmp_path / "out" / "mine.html"
    args = ["grade", str(submission), "--format", "html", "--output", str(page), "--only", "corr2d"]
    assert run(*args, "--device", "cpu").returncode == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and 'id="corr2d"' in text
    assert "wrong shape: expected (2, 2), got (3, 3)" in text
