"""Renderers: the report model as text for a terminal, or as JSON."""

from __future__ import annotations

import json
import textwrap

from grader.report import ExerciseResult, Report, report_to_dict


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def summary(exercise: ExerciseResult) -> str:
    if exercise.defined_at is None:
        return "missing"
    counted = [t for t in exercise.tests if t.status != "skipped"]
    passed = exercise.count("passed")
    text = f"{passed}/{len(counted)} tests passed"
    others = [
        f"{exercise.count(s)} {s}" for s in ("failed", "error", "timeout") if exercise.count(s)
    ]
    skipped = exercise.count("skipped")
    if skipped:
        others.append(f"{skipped} skipped")
    return text + (f" ({', '.join(others)})" if others else "")


def indent(text: str, prefix: str = "      ") -> str:
    return textwrap.indent(text, prefix)


def render_table(report: Report) -> str:
    """A summary for a terminal: a line per exercise, then the details of what went wrong."""
    width = max(len(e.name) for e in report.exercises) if report.exercises else 10
    lines = [
        f"Submission: {report.submission}   seed: {report.seed}   isolation: {report.isolation}",
        "",
        f"  {'exercise':<{width}}  {'score':>11}  tests",
    ]
    for exercise in report.exercises:
        score = f"{points(exercise.score)}/{points(exercise.max_score)}"
        lines.append(f"  {exercise.name:<{width}}  {score:>11}  {summary(exercise)}")
    lines += [
        "",
        f"  {'total':<{width}}  {points(report.score) + '/' + points(report.max_score):>11}",
    ]
    if report.notes:
        lines += ["", "Notes:"] + [
            indent(note, "  - ").replace("\n  - ", "\n    ") for note in report.notes
        ]
    details = []
    for exercise in report.exercises:
        problems = [t for t in exercise.tests if t.status not in ("passed", "skipped")]
        if not (problems or exercise.notes):
            continue
        details.append(f"\n{exercise.name}:")
        details += [indent(note, "  - ").replace("\n  - ", "\n    ") for note in exercise.notes]
        if exercise.defined_at is None:
            continue
        messages = {t.message for t in problems}
        if len(problems) > 1 and len(messages) == 1:
            statuses = "/".join(sorted({t.status.upper() for t in problems}))
            details.append(
                f"  {statuses} all {len(problems)} tests that ran: {problems[0].message}"
            )
            problems = []
        for test in problems[:5]:
            details.append(f"  {test.status.upper()} {test.name}")
            details.append(indent(test.message))
            if test.output:
                details.append(indent("printed:\n" + indent(test.output.rstrip(), "  ")))
        if len(problems) > 5:
            details.append(f"  ... and {len(problems) - 5} more; see --format json for all")
    skipped = sorted(
        {t.message for e in report.exercises for t in e.tests if t.status == "skipped"}
    )
    if skipped:
        lines += ["", "Skipped (not counted): " + "; ".join(skipped)]
    if details:
        lines += ["", "Details:"] + details
    return "\n".join(lines) + "\n"
