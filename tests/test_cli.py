"""The command line as a user runs it: real child processes, real exit codes."""

import json
import subprocess
import sys

from conftest import ROOT, SOLUTIONS, write

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
