"""Gradebooks for each LMS, read back as that LMS's import would read them."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.exports import render_json
from grader.gradebook import (
    GradebookError,
    read_roster,
    unmatched_path,
    write_gradebook,
)
from grader.report import ExerciseResult, Report, TestResult

MAX = 100.0
# Odd names: commas, quotes, accents, a leading formula character, and non-Latin scripts.
ROSTER = [
    {"submission": "1201", "student_id": "1201", "name": "Smith, Jane", "email": "j@x.edu"},
    {"submission": "1202", "student_id": "ana.lopez", "name": 'Ana "Anita" López',
     "email": "ana@x.edu"},
    {"submission": "", "student_id": "0042", "name": "Zoë Ørsted-Ångström", "email": "z@x.edu"},
    {"submission": "A1+B2", "student_id": "B2", "name": "=Bo Ek", "email": "bo@x.edu"},
    {"submission": "1299", "student_id": "nosub", "name": "李 小龍", "email": "li@x.edu"},
]  # fmt: skip
SCORES = {"1201": 87.5, "1202": 40.0, "0042": 100.0, "A1+B2": 12.25, "9999": 55.0}


def report(submission: str, score: float) -> Report:
    """A report as batch writes it: two exercises whose scores add up to `score`."""
    tests = (
        TestResult("public-1 [cpu]", "passed", score / 2, MAX / 2, "", "cpu", "visible"),
        TestResult("hidden-1 [cpu]", "failed", score / 2, MAX / 2, "off", "cpu", "hidden"),
    )
    exercises = (
        ExerciseResult("corr2d", tests[:1], "x.py, line 1"),
        ExerciseResult("Conv2D", tests[1:], "x.py, line 9"),
    )
    return Report(submission, 7, exercises, (), "strict", "mxnet")


@pytest.fixture
def graded(tmp_path) -> tuple[Path, Path]:
    reports = tmp_path / "grades-reports"
    reports.mkdir()
    for submission, score in SCORES.items():
        (reports / f"{submission}.json").write_text(render_json(report(submission, score)))
    (reports / "broken.json").write_text("{not json")
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as opened:
        writer = csv.DictWriter(opened, fieldnames=[*ROSTER[0], "section", "org_defined_id"])
        writer.writeheader()
        for row in ROSTER:
            writer.writerow({**row, "section": "Sec, A", "org_defined_id": ""})
    return reports, roster


def read_back(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def by_column(rows: list[list[str]], column: str) -> list[str]:
    index = rows[0].index(column)
    return [row[index] for row in rows[1:]]


EXPECTED_SCORES = ["87.5", "40", "100", "12.25", "0"]  # roster order; nosub has none


def test_canvas_has_its_documented_columns_and_every_roster_student(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "canvas.csv"
    book = write_gradebook(reports, roster, "canvas", output, "Convolutions (55)", MAX)
    rows = read_back(output)
    # Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment columns.
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Convolutions (55)"]  # fmt: skip
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "100"
    students = rows[2:]
    assert [r[0] for r in students] == [s["name"] for s in ROSTER]  # odd names round-trip
    assert [r[1] for r in students] == [s["student_id"] for s in ROSTER]
    assert [r[-1] for r in students] == EXPECTED_SCORES
    assert all(r[4] == "Sec, A" for r in students)
    assert [g.student.student_id for g in book.grades if not g.submitted] == ["nosub"]
    assert [r.submission for r in book.unmatched] == ["9999"]
    assert len(book.problems) == 1 and "broken.json" in book.problems[0]


def test_moodle_identifies_users_and_carries_feedback(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "moodle.csv"
    write_gradebook(reports, roster, "moodle", output, "Convolutions", MAX)
    rows = read_back(output)
    # Moodle maps a user column (username, email, ID number) and the grade item by hand.
    assert {"Username", "Email address", "ID number", "Convolutions", "Feedback"} <= set(rows[0])
    assert by_column(rows, "Username") == [s["student_id"] for s in ROSTER]
    assert by_column(rows, "Email address") == [s["email"] for s in ROSTER]
    assert by_column(rows, "Convolutions") == EXPECTED_SCORES
    feedback = by_column(rows, "Feedback")
    assert feedback[0].startswith("87.5/100: corr2d 43.75/50; Conv2D 43.75/50")
    assert feedback[-1] == "no submission"


def test_brightspace_points_grade_and_end_of_line_indicator(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "brightspace.csv"
    write_gradebook(reports, roster, "brightspace", output, "Convolutions", MAX)
    rows = read_back(output)
    # Username and/or OrgDefinedId; "<item> Points Grade"; the End-of-Line Indicator last.
    assert rows[0] == ["Username", "Convolutions Points Grade", "End-of-Line Indicator"]
    assert by_column(rows, "Username") == [f"#{s['student_id']}" for s in ROSTER]
    assert by_column(rows, "Convolutions Points Grade") == EXPECTED_SCORES
    assert set(by_column(rows, "End-of-Line Indicator")) == {"#"}
    # Names and emails are not import fields in Brightspace and are left out.
    assert "Zoë" not in output.read_text(encoding="utf-8")


def test_blackboard_quotes_every_field_and_finds_students_by_username(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "blackboard.csv"
    write_gradebook(reports, roster, "blackboard", output, "Convolutions", MAX)
    text = output.read_text(encoding="utf-8")
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())
    rows = read_back(output)
    assert rows[0] == ["Last Name", "First Name", "Username", "Convolutions"]
    assert by_column(rows, "Username") == [s["student_id"] for s in ROSTER]
    assert rows[1][:2] == ["Smith", "Jane"]  # "Smith, Jane" is "Last, First"
    assert rows[3][:2] == ["Ørsted-Ångström", "Zoë"]
    assert by_column(rows, "Convolutions") == EXPECTED_SCORES


def test_unmatched_submissions_are_listed_beside_the_gradebook(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "canvas.csv"
    write_gradebook(reports, roster, "canvas", output, "Convolutions", MAX)
    side = read_back(unmatched_path(output))
    assert side[0][:3] == ["submission", "score", "max_score"] and side[1][:2] == ["9999", "55"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("submission,name,email\n1,A,a@x\n", "line 1: the roster needs the columns"),
        ("submission,student_id,name,email\n1,,A,a@x\n", "line 2: student_id is empty"),
        ("submission,student_id,name,email\n1,s1,A,a\n2,s1,B,b\n", "line 3: student_id 's1' is"),
        ("submission,student_id,name,email\n1,s1,A,a,extra\n", "line 2: more fields"),
    ],
)
def test_a_bad_roster_names_its_line(tmp_path, text, message):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(GradebookError, match=message):
        read_roster(roster)


def test_the_command_writes_the_gradebook_and_says_who_is_missing(graded, tmp_path):
    reports, roster = graded
    output = tmp_path / "out" / "grades-canvas.csv"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "gradebook", str(reports), "--lms", "canvas",
         "--roster", str(roster), "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no submission from 李 小龍 (nosub, roster line 6): 0 in the gradebook" in done.stderr
    assert "submission 9999 (55/100) is on no roster line" in done.stderr
    assert "wrote 5 students" in done.stderr
    assert len(read_back(output)) == 2 + len(ROSTER)
    bad = subprocess.run(
        [sys.executable, "-m", "grader", "gradebook", str(reports), "--lms", "canvas",
         "--roster", str(tmp_path / "none.csv"), "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "none.csv" in bad.stderr and "Traceback" not in bad.stderr
