"""The command line: `python -m grader grade ...` and `python -m grader exercises`.

Exit codes: 0 whenever a report was produced, whatever the score; 2 for bad usage or a bad
config; 1 if the grader itself failed (a bug: set GRADER_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from grader import cases, stubs
from grader.config import ISOLATION_MODES, ConfigError, load_config
from grader.grading import DEVICE_CHOICES, grade
from grader.isolation import IsolationUnavailable
from grader.render import render_json, render_table
from grader.submission import SubmissionNotFound

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RENDERERS = {"table": render_table, "json": render_json}
USAGE_ERROR = 2


def default_config() -> Path:
    local = Path("config.yaml")
    return local if local.is_file() else PROJECT_ROOT / "config.yaml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    grade_parser = commands.add_parser("grade", help="grade one submission")
    grade_parser.add_argument(
        "submission", type=Path, help="a .py file, an .ipynb notebook, or a folder of them"
    )
    grade_parser.add_argument("--format", choices=sorted(RENDERERS), default="table")
    grade_parser.add_argument("--output", type=Path, help="write the report here, not to stdout")
    grade_parser.add_argument("--seed", type=int, help="hidden-case seed (default: config's)")
    grade_parser.add_argument(
        "--device", choices=DEVICE_CHOICES, help="devices to run on (default: config's devices)"
    )
    grade_parser.add_argument("--config", type=Path, help="course config (default: config.yaml)")
    grade_parser.add_argument(
        "--isolation",
        choices=ISOLATION_MODES,
        help="strict: refuse to grade without the bubblewrap sandbox; basic: a plain child "
        "process; auto: strict where possible (default: config's, else auto)",
    )

    exercises_parser = commands.add_parser(
        "exercises", help="generate exercises/ (.py and .ipynb) from solutions/"
    )
    exercises_parser.add_argument("--solutions", type=Path, default=PROJECT_ROOT / "solutions")
    exercises_parser.add_argument("--exercises", type=Path, default=PROJECT_ROOT / "exercises")
    exercises_parser.add_argument(
        "--check", action="store_true", help="only report exercise files that differ; exit 1 if any"
    )
    return parser


def fail(message: str, code: int = USAGE_ERROR) -> int:
    print(f"grader: {message}", file=sys.stderr)
    return code


def run_grade(args: argparse.Namespace) -> int:
    config = load_config(args.config or default_config(), cases.public_case_counts())
    report = grade(
        args.submission, config, seed=args.seed, device=args.device, isolation=args.isolation
    )
    text = RENDERERS[args.format](report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def run_exercises(args: argparse.Namespace) -> int:
    if args.check:
        stale = stubs.stale_exercises(args.solutions, args.exercises)
        for name in stale:
            print(f"{args.exercises / name} differs from what `make exercises` generates")
        return 1 if stale else 0
    for path in stubs.write_exercises(args.solutions, args.exercises):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "grade":
            return run_grade(args)
        return run_exercises(args)
    except (ConfigError, SubmissionNotFound, stubs.StubError, IsolationUnavailable) as error:
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
