"""A batch's reports as the gradebook CSV that an LMS imports: Canvas, Moodle, Brightspace,
Blackboard.

A roster (CSV: `submission`, `student_id`, `name`, `email`, and optional extra columns) maps
the batch's submission ids to the LMS's students. Every roster student gets a row (no
submission: 0, said on stderr); a submission on no roster line is listed on stderr and in a
file beside the gradebook, so no grade disappears between the grader and the LMS. The columns
are the ones each LMS's import documentation names; see the README for the sources.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.report import Report, report_from_dict

LMS_NAMES = ("canvas", "moodle", "brightspace", "blackboard")
ROSTER_COLUMNS = ("submission", "student_id", "name", "email")
GROUP_SEPARATOR = "+"  # a group's submission id joins its members' ids (Gradescope exports)


class GradebookError(ValueError):
    """A roster or reports folder that cannot make a gradebook; the message says where."""


@dataclass(frozen=True)
class Student:
    submission: str
    student_id: str
    name: str
    email: str
    extra: dict[str, str] = field(default_factory=dict)  # section, sis_user_id, first_name, ...
    line: int = 0


@dataclass(frozen=True)
class Grade:
    student: Student
    score: float
    max_score: float
    feedback: str  # one line: the score of each exercise, or why there is none
    submitted: bool


@dataclass(frozen=True)
class Gradebook:
    grades: tuple[Grade, ...]  # one per roster student, in roster order
    unmatched: tuple[Report, ...]  # submissions on no roster line
    problems: tuple[str, ...]  # reports that could not be read


def read_roster(path: Path) -> list[Student]:
    """The roster; a missing column, an empty or repeated student_id is an error naming the
    line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GradebookError(f"{path}: not UTF-8 text (save the roster as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in ROSTER_COLUMNS if column not in header]
    if missing:
        raise GradebookError(
            f"{path}: line 1: the roster needs the columns {', '.join(ROSTER_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    reader.fieldnames = header
    students, seen = [], {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise GradebookError(f"{path}: line {line}: more fields than the header has")
        values = {key: (value or "").strip() for key, value in row.items()}
        student_id = values["student_id"]
        if not student_id:
            raise GradebookError(f"{path}: line {line}: student_id is empty")
        if student_id in seen:
            raise GradebookError(
                f"{path}: line {line}: student_id {student_id!r} is already on line "
                f"{seen[student_id]}"
            )
        seen[student_id] = line
        students.append(
            Student(
                submission=values["submission"] or student_id,
                student_id=student_id,
                name=values["name"],
                email=values["email"],
                extra={k: v for k, v in values.items() if k not in ROSTER_COLUMNS},
                line=line,
            )
        )
    return students


def read_reports(folder: Path) -> tuple[dict[str, Report], list[str]]:
    """The JSON reports batch wrote, by submission id, and the files that are not reports."""
    if not folder.is_dir():
        raise GradebookError(f"{folder}: not a folder of reports (batch --reports)")
    reports, problems = {}, []
    for path in sorted(folder.glob("*.json")):
        try:
            report = report_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problems.append(f"{path}: not a grader report ({type(error).__name__}); left out")
            continue
        reports[report.submission] = report
    return reports, problems


def exercise_summary(report: Report) -> str:
    return "; ".join(f"{e.name} {e.score:.4g}/{e.max_score:.4g}" for e in report.exercises)


def make_gradebook(
    students: list[Student], reports: dict[str, Report], max_score: float
) -> tuple[list[Grade], tuple[Report, ...]]:
    """Match reports to students; a group submission credits each member on the roster."""
    by_member: dict[str, Report] = {}
    for id, report in reports.items():
        by_member[id] = report
        for member in id.split(GROUP_SEPARATOR):
            by_member.setdefault(member, report)
    used = set()
    grades = []
    for student in students:
        report = by_member.get(student.submission)
        if report is None:
            grades.append(Grade(student, 0.0, max_score, "no submission", False))
            continue
        used.add(report.submission)
        grades.append(
            Grade(
                student,
                round(report.score, 2),
                report.max_score,
                f"{report.score:.4g}/{report.max_score:.4g}: {exercise_summary(report)}",
                True,
            )
        )
    unmatched = tuple(r for id, r in sorted(reports.items()) if id not in used)
    return grades, unmatched


# ---- one writer per LMS: a header and one row per student ----


def number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def split_name(student: Student) -> tuple[str, str]:
    """(first, last): the roster's first_name/last_name when it has them, else from name."""
    first, last = student.extra.get("first_name", ""), student.extra.get("last_name", "")
    if first or last:
        return first, last
    if "," in student.name:  # "Last, First", as rosters exported from an LMS write it
        last, first = student.name.split(",", 1)
        return first.strip(), last.strip()
    head, _, tail = student.name.rpartition(" ")
    return (head, tail) if head else (student.name, "")


def canvas_rows(grades: list[Grade], assignment: str, max_score: float) -> list[list[str]]:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one
    column per assignment; the "Points Possible" row is the one Canvas's own export writes."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]
    rows = [header, ["Points Possible", "", "", "", "", number(max_score)]]
    for grade in grades:
        s = grade.student
        rows.append(
            [
                s.name,
                s.student_id,
                s.extra.get("sis_user_id", ""),
                s.extra.get("sis_login_id", ""),
                s.extra.get("section", ""),
                number(grade.score),
            ]
        )
    return rows


def moodle_rows(grades: list[Grade], assignment: str, max_score: float) -> list[list[str]]:
    """Moodle's CSV grade import maps columns by hand: identify users by "Username" (or
    "Email address", or "ID number"), map the grade and its feedback to the grade item."""
    header = ["Full name", "Username", "Email address", "ID number", assignment, "Feedback"]
    rows = [header]
    for grade in grades:
        s = grade.student
        rows.append(
            [
                s.name,
                s.student_id,
                s.email,
                s.extra.get("id_number", ""),
                number(grade.score),
                grade.feedback,
            ]
        )
    return rows


def brightspace_rows(grades: list[Grade], assignment: str, max_score: float) -> list[list[str]]:
    """Brightspace's grades import: OrgDefinedId and/or Username (with the `#` its export
    writes, which keeps leading zeros), "<item> Points Grade", and the End-of-Line Indicator."""
    org_ids = any(g.student.extra.get("org_defined_id") for g in grades)
    header = (["OrgDefinedId"] if org_ids else []) + [
        "Username",
        f"{assignment} Points Grade",
        "End-of-Line Indicator",
    ]
    rows = [header]
    for grade in grades:
        s = grade.student
        org = [f"#{s.extra['org_defined_id']}" if s.extra.get("org_defined_id") else ""]
        rows.append((org if org_ids else []) + [f"#{s.student_id}", number(grade.score), "#"])
    return rows


def blackboard_rows(grades: list[Grade], assignment: str, max_score: float) -> list[list[str]]:
    """Blackboard's Grade Center upload: students by Username; a column header without the
    `|<column id>` of an existing column (copy it from a Grade Center download to update that
    one) creates a column."""
    rows = [["Last Name", "First Name", "Username", assignment]]
    for grade in grades:
        first, last = split_name(grade.student)
        rows.append([last, first, grade.student.student_id, number(grade.score)])
    return rows


WRITERS: dict[str, tuple[Callable, int]] = {
    "canvas": (canvas_rows, csv.QUOTE_MINIMAL),
    "moodle": (moodle_rows, csv.QUOTE_MINIMAL),
    "brightspace": (brightspace_rows, csv.QUOTE_MINIMAL),
    # Blackboard's documentation asks for every field of a comma-delimited file in quotes.
    "blackboard": (blackboard_rows, csv.QUOTE_ALL),
}


def render_csv(rows: list[list[str]], quoting: int) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def gradebook_csv(lms: str, grades: list[Grade], assignment: str, max_score: float) -> str:
    rows, quoting = WRITERS[lms]
    return render_csv(rows(grades, assignment, max_score), quoting)


def unmatched_csv(reports: tuple[Report, ...]) -> str:
    rows = [["submission", "score", "max_score", "exercises"]]
    rows += [
        [r.submission, number(r.score), number(r.max_score), exercise_summary(r)] for r in reports
    ]
    return render_csv(rows, csv.QUOTE_MINIMAL)


def unmatched_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-unmatched.csv")


def write_gradebook(
    reports_folder: Path, roster: Path, lms: str, output: Path, assignment: str, max_score: float
) -> Gradebook:
    """Write the LMS's CSV (and the unmatched submissions beside it, if any)."""
    students = read_roster(roster)
    reports, problems = read_reports(reports_folder)
    grades, unmatched = make_gradebook(students, reports, max_score)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(gradebook_csv(lms, grades, assignment, max_score), encoding="utf-8")
    side = unmatched_path(output)
    if unmatched:
        side.write_text(unmatched_csv(unmatched), encoding="utf-8")
    elif side.exists():
        side.unlink()
    return Gradebook(tuple(grades), unmatched, tuple(problems))
