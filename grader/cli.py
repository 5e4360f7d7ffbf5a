"""The command line: `python -m grader grade|check|release|gradescope|exercises ...`.

Exit codes: 0 whenever a report was produced, whatever the score (with --fail-under: 1 below
it); 2 for bad usage or a bad config; 1 if the grader itself failed (a bug: set GRADER_DEBUG=1
for the traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import traceback
import zipfile
from pathlib import Path

import grader
from grader import batch, bundles, cases, frameworks, gradebook, stubs
from grader.config import (
    ISOLATION_MODES,
    ConfigError,
    CourseConfig,
    default_config_path,
    load_config,
    only_exercises,
    public_only,
)
from grader.exports import gradescope_results, prairielearn_results, render_json, render_junit
from grader.grading import DEVICE_CHOICES, grade
from grader.html_report import render_html
from grader.isolation import IsolationUnavailable, choose_isolation
from grader.lms_exports import ExportError
from grader.render import render_check, render_markdown, render_table
from grader.report import Report
from grader.submission import SubmissionNotFound

USAGE_ERROR = 2
FAILED_THRESHOLD = 1


def render_gradescope(report: Report, config: CourseConfig) -> str:
    return json.dumps(gradescope_results(report, config.gradescope_hidden_visibility), indent=2)


RENDERERS = {
    "table": lambda report, config: render_table(report),
    "json": lambda report, config: render_json(report),
    "junit": lambda report, config: render_junit(report),
    "markdown": lambda report, config: render_markdown(report),
    "html": lambda report, config: render_html(report),
    "gradescope": render_gradescope,
    "prairielearn": lambda report, config: json.dumps(prairielearn_results(report), indent=2),
}


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="course config (default: config.yaml)")
    parser.add_argument(
        "--only", type=names, default=[], metavar="NAME[,NAME]", help="grade only these exercises"
    )
    parser.add_argument(
        "--framework",
        choices=frameworks.FRAMEWORKS,
        help="the book's edition the code is written for (default: the config's, else mxnet)",
    )
    parser.add_argument(
        "--isolation",
        choices=ISOLATION_MODES,
        help="strict: refuse to grade without the bubblewrap sandbox; basic: a "
        "plain child process; auto: strict where possible "
        "(default: the config's, else auto)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=grader.version_text())
    commands = parser.add_subparsers(dest="command", required=True)

    grading = commands.add_parser("grade", help="grade one submission on public and hidden cases")
    grading.add_argument(
        "submission", type=Path, help="a .py file, an .ipynb notebook, or a folder of them"
    )
    grading.add_argument("--format", choices=sorted(RENDERERS), default="table")
    grading.add_argument("--output", type=Path, help="write the report here, not to stdout")
    grading.add_argument(
        "--html", type=Path, metavar="FILE", help="also write the HTML report to FILE"
    )
    grading.add_argument("--seed", type=int, help="hidden-case seed (default: the config's)")
    grading.add_argument(
        "--device", choices=DEVICE_CHOICES, help="devices to run on (default: the config's devices)"
    )
    grading.add_argument(
        "--fail-under",
        type=float,
        metavar="SCORE",
        help="exit with status 1 if the score is below SCORE",
    )
    add_common(grading)

    checking = commands.add_parser("check", help="check your work against the public cases")
    checking.add_argument("submission", type=Path, nargs="?", default=Path("exercises"))
    add_common(checking)

    batch = commands.add_parser("batch", help="grade every submission in a folder (a class)")
    batch.add_argument(
        "folder",
        type=Path,
        help="a folder (each entry, .py, .ipynb, folder or .zip, is one submission) or an LMS "
        "export as downloaded: a .zip or folder from Canvas, Moodle or Gradescope",
    )
    batch.add_argument(
        "--output",
        type=Path,
        default=Path("grades.csv"),
        help="the gradebook CSV (default: grades.csv)",
    )
    batch.add_argument(
        "--reports",
        type=Path,
        help="one JSON and one HTML report per submission, and index.html, the class "
        "overview (default: OUTPUT's name + -reports)",
    )
    batch.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: all cores)",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="skip submissions whose report is already in --reports",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster (tcp://host:8786) instead of locally",
    )
    batch.add_argument("--seed", type=int, help="hidden-case seed (default: the config's)")
    add_common(batch)

    lms_book = commands.add_parser(
        "gradebook", help="turn a batch's reports into the gradebook CSV an LMS imports"
    )
    lms_book.add_argument("reports", type=Path, help="the reports folder batch wrote")
    lms_book.add_argument("--lms", choices=gradebook.LMS_NAMES, required=True)
    lms_book.add_argument(
        "--roster",
        type=Path,
        required=True,
        help="CSV with the columns submission, student_id, name, email",
    )
    lms_book.add_argument("--output", type=Path, required=True, help="the CSV to write")
    lms_book.add_argument(
        "--assignment",
        default="Convolutions",
        help="the LMS's name of the grade column (default: Convolutions)",
    )
    lms_book.add_argument("--config", type=Path, help="course config (default: config.yaml)")

    release = commands.add_parser("release", help="build the student bundle in OUTDIR")
    release.add_argument("outdir", type=Path)
    release.add_argument("--config", type=Path, help="course config (default: config.yaml)")
    release.add_argument(
        "--framework", choices=frameworks.FRAMEWORKS, help="the edition (default: the config's)"
    )
    release.add_argument(
        "--fail-under",
        type=float,
        metavar="SCORE",
        help="the bundle's GitHub Actions check fails below SCORE (default: full marks)",
    )

    classroom50 = commands.add_parser(
        "classroom50", help="build Classroom 50's per-assignment autograder folder in OUTDIR"
    )
    classroom50.add_argument("outdir", type=Path)
    classroom50.add_argument("--config", type=Path, help="course config (default: config.yaml)")

    prairielearn = commands.add_parser(
        "prairielearn", help="build PrairieLearn's external grader (image and course files)"
    )
    prairielearn.add_argument("outdir", type=Path)
    prairielearn.add_argument("--config", type=Path, help="course config (default: config.yaml)")

    gradescope = commands.add_parser(
        "gradescope", help="grade ROOT/submission, write ROOT/results/results.json (Gradescope)"
    )
    gradescope.add_argument("--root", type=Path, default=Path("/autograder"))
    add_common(gradescope)

    autograder = commands.add_parser("autograder-zip", help="build Gradescope's autograder.zip")
    autograder.add_argument("zipfile", type=Path)
    autograder.add_argument("--config", type=Path, help="course config (default: config.yaml)")

    exercises = commands.add_parser(
        "exercises", help="generate exercises/ (.py and .ipynb) from solutions/"
    )
    exercises.add_argument(
        "--solutions", type=Path, help="one solutions folder (default: both editions')"
    )
    exercises.add_argument("--exercises", type=Path, help="where its exercises go")
    exercises.add_argument(
        "--check", action="store_true", help="only report exercise files that differ; exit 1 if any"
    )
    return parser


GRADING_COMMANDS = ("grade", "check", "batch", "gradescope")  # they need the framework


def course(args: argparse.Namespace) -> CourseConfig:
    config = load_config(args.config or default_config_path(), cases.public_case_counts())
    if getattr(args, "framework", None):
        config = dataclasses.replace(config, framework=args.framework)
    if args.command in GRADING_COMMANDS:
        frameworks.backend(config.framework).check_installed()
    return only_exercises(config, args.only) if getattr(args, "only", None) else config


def write(text: str, output: Path | None) -> None:
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    else:
        sys.stdout.write(text)


def run_grade(args: argparse.Namespace) -> int:
    config = course(args)
    report = grade(
        args.submission, config, seed=args.seed, device=args.device, isolation=args.isolation
    )
    write(RENDERERS[args.format](report, config), args.output)
    if args.html:
        write(render_html(report), args.html)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.format == "markdown" and summary_file:
        with open(summary_file, "a") as summary:
            summary.write(render_markdown(report))
    if args.fail_under is not None and report.score < args.fail_under:
        return FAILED_THRESHOLD
    return 0


def run_check(args: argparse.Namespace) -> int:
    report = grade(
        args.submission, public_only(course(args)), device="cpu", isolation=args.isolation
    )
    sys.stdout.write(render_check(report))
    return 0


def run_gradescope(args: argparse.Namespace) -> int:
    config = course(args)
    report = grade(args.root / "submission", config, isolation=args.isolation)
    results = args.root / "results" / "results.json"
    write(render_gradescope(report, config), results)
    sys.stdout.write(render_table(report))
    return 0


def run_batch(args: argparse.Namespace) -> int:
    if not (args.folder.is_dir() or (args.folder.is_file() and zipfile.is_zipfile(args.folder))):
        return fail(f"{args.folder}: not a folder of submissions or a .zip export")
    if args.jobs < 1:
        return fail("--jobs: expected a number >= 1")
    config = course(args)
    choose_isolation(args.isolation or config.isolation)  # refuse strict before starting
    reports = args.reports or args.output.with_name(f"{args.output.stem}-reports")
    staging = batch.staging_folder(reports)
    todo = len(batch.submission_entries(args.folder, (args.output, reports), staging))
    rows = batch.run_batch(
        args.folder,
        config,
        args.output,
        reports,
        jobs=args.jobs,
        resume=args.resume,
        seed=args.seed,
        isolation=args.isolation,
        scheduler=args.scheduler,
        on_row=batch.Progress(todo).update,
    )
    problems = sum(row.status != "ok" for row in rows)
    print(
        f"{len(rows)} submissions in {args.output} ({problems} not graded as code), "
        f"reports in {reports}/, class overview in {reports / batch.OVERVIEW}",
        file=sys.stderr,
    )
    return 0


def run_gradebook(args: argparse.Namespace) -> int:
    config = course(args)
    max_score = round(sum(e.points for e in config.exercises), 4)
    try:
        book = gradebook.write_gradebook(
            args.reports, args.roster, args.lms, args.output, args.assignment, max_score
        )
    except gradebook.GradebookError as error:
        return fail(str(error))
    for problem in book.problems:
        print(f"grader: {problem}", file=sys.stderr)
    missing = [g.student for g in book.grades if not g.submitted]
    for student in missing:
        print(
            f"grader: no submission from {student.name} ({student.student_id}, roster line "
            f"{student.line}): 0 in the gradebook",
            file=sys.stderr,
        )
    for report in book.unmatched:
        print(
            f"grader: submission {report.submission} ({report.score:g}/{report.max_score:g}) "
            f"is on no roster line: listed in {gradebook.unmatched_path(args.output)}",
            file=sys.stderr,
        )
    print(
        f"wrote {len(book.grades)} students to {args.output} for {args.lms} "
        f"({len(missing)} without a submission, {len(book.unmatched)} submissions not on "
        f"the roster)",
        file=sys.stderr,
    )
    return 0


def run_exercises(args: argparse.Namespace) -> int:
    if args.solutions or args.exercises:  # one pair; the MXNet edition's folders by default
        solutions, exercises = bundles.edition_folders("mxnet")
        pairs = [(args.solutions or solutions, args.exercises or exercises)]
    else:
        pairs = [bundles.edition_folders(framework) for framework in frameworks.FRAMEWORKS]
    if args.check:
        stale = [
            exercises / name
            for solutions, exercises in pairs
            for name in stubs.stale_exercises(solutions, exercises)
        ]
        for path in stale:
            print(f"{path} differs from what `make exercises` generates")
        return 1 if stale else 0
    for solutions, exercises in pairs:
        for path in stubs.write_exercises(solutions, exercises):
            print(f"wrote {path}")
    return 0


def run_release(args: argparse.Namespace) -> int:
    bundles.student_bundle(
        args.outdir, course(args), args.config or default_config_path(), args.fail_under
    )
    print(f"wrote the student bundle to {args.outdir}")
    return 0


def run_classroom50(args: argparse.Namespace) -> int:
    course(args)  # refuse a bad config before writing anything
    bundles.classroom50_autograder(args.outdir, args.config or default_config_path())
    print(f"wrote the Classroom 50 autograder to {args.outdir}")
    return 0


def run_prairielearn(args: argparse.Namespace) -> int:
    course(args)
    bundles.prairielearn_files(args.outdir, args.config or default_config_path())
    print(f"wrote PrairieLearn's external grader to {args.outdir}")
    return 0


def run_autograder_zip(args: argparse.Namespace) -> int:
    bundles.gradescope_zip(args.zipfile, args.config or default_config_path())
    print(f"wrote {args.zipfile}")
    return 0


COMMANDS = {
    "grade": run_grade,
    "check": run_check,
    "gradescope": run_gradescope,
    "batch": run_batch,
    "gradebook": run_gradebook,
    "exercises": run_exercises,
    "release": run_release,
    "classroom50": run_classroom50,
    "prairielearn": run_prairielearn,
    "autograder-zip": run_autograder_zip,
}


def fail(message: str, code: int = USAGE_ERROR) -> int:
    print(f"grader: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (
        ConfigError,
        SubmissionNotFound,
        stubs.StubError,
        IsolationUnavailable,
        ExportError,
    ) as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{error.filename or ''}: {error.strerror}".lstrip(": "))
    except Exception as error:  # a grader bug: say so in one line, not a traceback
        if os.environ.get("GRADER_DEBUG"):
            traceback.print_exc()
        return fail(
            f"internal error: {type(error).__name__}: {error} "
            f"(set GRADER_DEBUG=1 for the traceback)",
            1,
        )
