"""Renderers: the report model as text for a terminal, or as JSON."""

from __future__ import annotations

import json
import textwrap

from grader.report import ExerciseResult, Report, report_to_dict

MAX_FAILURES_SHOWN = 5


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def summary(exercise: ExerciseResult) -> str:
    if exercise.defined_at is None:
        return "missing"
    counted = [t for t in exercise.tests if t.status != "skipped"]
    text = f"{exercise.count('passed')}/{len(counted)} tests passed"
    others = [
        f"{exercise.count(s)} {s}" for s in ("failed", "error", "timeout") if exercise.count(s)
    ]
    return text + (f" ({', '.join(others)})" if others else "")


def indent(text: str, prefix: str = "      ") -> str:
    return textwrap.indent(text, prefix)


def bullet(text: str) -> str:
    """A note as a list item; its later lines line up under its first."""
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"  - {first}", *(f"    {line}" for line in rest)])


def exercise_details(exercise: ExerciseResult) -> list[str]:
    problems = [t for t in exercise.tests if t.status not in ("passed", "skipped")]
    if not (problems or exercise.notes):
        return []
    lines = [f"\n{exercise.name}:", *(bullet(note) for note in exercise.notes)]
    if exercise.defined_at is None:
        return lines
    if len(problems) > 1 and len({t.message for t in problems}) == 1:
        statuses = "/".join(sorted({t.status.upper() for t in problems}))
        return [*lines, f"  {statuses} all {len(problems)} tests that ran: {problems[0].message}"]
    for test in problems[:MAX_FAILURES_SHOWN]:
        lines += [f"  {test.status.upper()} {test.name}", indent(test.message)]
        if test.output:
            lines.append(indent("printed:\n" + indent(test.output.rstrip(), "  ")))
    if len(problems) > MAX_FAILURES_SHOWN:
        more = len(problems) - MAX_FAILURES_SHOWN
        lines.append(f"  ... and {more} more; see --format json for all")
    return lines


def render_table(report: Report) -> str:
    """A summary for a terminal: a line per exercise, then the details of what went wrong."""
    width = max((len(e.name) for e in report.exercises), default=10)
    lines = [
        f"Submission: {report.submission}   seed: {report.seed}   isolation: {report.isolation}",
        "",
        f"  {'exercise':<{width}}  {'score':>11}  tests",
    ]
    for exercise in report.exercises:
        score = f"{points(exercise.score)}/{points(exercise.max_score)}"
        lines.append(f"  {exercise.name:<{width}}  {score:>11}  {summary(exercise)}")
    total = f"{points(report.score)}/{points(report.max_score)}"
    lines += ["", f"  {'total':<{width}}  {total:>11}"]
    skipped = [t for e in report.exercises for t in e.tests if t.status == "skipped"]
    if skipped:
        reasons = "; ".join(sorted({t.message for t in skipped}))
        lines.append(f"  ({len(skipped)} tests skipped, not counted: {reasons})")
    if report.notes:
        lines += ["", "Notes:", *(bullet(note) for note in report.notes)]
    details = [line for exercise in report.exercises for line in exercise_details(exercise)]
    if details:
        lines += ["", "Details:", *details]
    return "\n".join(lines) + "\n"
