"""Human-readable renderings of the report: a terminal table, a student's check, Markdown."""

from __future__ import annotations

import textwrap

from grader.checks import NOT_IMPLEMENTED
from grader.report import PRINTED_WHILE_LOADING, ExerciseResult, Report

MAX_FAILURES_SHOWN = 5


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


EXAMPLE_HEADING = "smallest failing input found (not scored):"


def example_text(exercise: ExerciseResult) -> str:
    """The exercise's smallest failing example, shown in full; empty if there is none."""
    if exercise.example is None:
        return ""
    return f"{EXAMPLE_HEADING}\n{indent(exercise.example.message, '  ')}"


def withheld_credit(exercise: ExerciseResult) -> list[str]:
    """Why passing tests earn less than their share (see scoring.py), once per reason."""
    reasons: dict[str, list[str]] = {}
    for test in exercise.tests:
        if test.status == "passed" and test.score < test.max_score and test.message:
            reasons.setdefault(test.message.splitlines()[-1], []).append(test.name)
    return [f"{', '.join(names)}: {reason}" for reason, names in reasons.items()]


def exercise_details(exercise: ExerciseResult) -> list[str]:
    problems = [t for t in exercise.tests if t.status not in ("passed", "skipped")]
    notes = [*exercise.notes, *withheld_credit(exercise)]
    if not (problems or notes):
        return []
    lines = [f"\n{exercise.name}:", *(bullet(note) for note in notes)]
    if exercise.defined_at is None:  # its line above says missing; a near miss is a note
        return lines if notes else []
    if len(problems) > 1 and len({t.message for t in problems}) == 1:
        statuses = "/".join(sorted({t.status.upper() for t in problems}))
        ran = sum(t.status != "skipped" for t in exercise.tests)
        which = f"all {ran} tests that ran" if len(problems) == ran else f"{len(problems)} tests"
        lines.append(f"  {statuses} {which}: {problems[0].message}")
    else:
        for test in problems[:MAX_FAILURES_SHOWN]:
            lines += [f"  {test.status.upper()} {test.name}", indent(test.message)]
            if test.output:
                lines.append(indent("printed:\n" + indent(test.output.rstrip(), "  ")))
        if len(problems) > MAX_FAILURES_SHOWN:
            more = len(problems) - MAX_FAILURES_SHOWN
            lines.append(f"  ... and {more} more; see --format json for all")
    if exercise.example:
        lines.append(indent(example_text(exercise), "  "))
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


def first_problem(exercise: ExerciseResult):
    return next((t for t in exercise.tests if t.status not in ("passed", "skipped")), None)


def render_check(report: Report) -> str:
    """For a student: each exercise against the public cases, then what went wrong in full."""
    width = max((len(e.name) for e in report.exercises), default=10)
    lines = [
        f"Checking {report.submission} against the public cases (the examples from the book).",
        "Hidden cases run only when your work is graded.",
        "",
    ]
    for exercise in report.exercises:
        counted = [t for t in exercise.tests if t.status != "skipped"]
        problem = first_problem(exercise)
        mark = "pass" if problem is None and counted else "FAIL"
        line = f"  [{mark}] {exercise.name:<{width}}  {exercise.count('passed')}/{len(counted)}"
        line += " public cases"
        if exercise.defined_at is None:
            line += ": not defined"
        elif problem and NOT_IMPLEMENTED in problem.message:
            line += ": not implemented yet"
        lines.append(line)
    done = sum(first_problem(e) is None for e in report.exercises)
    lines += ["", f"{done} of {len(report.exercises)} exercises pass their public cases."]
    notes = [n for n in report.notes if not n.startswith(PRINTED_WHILE_LOADING)]
    if notes:  # what the student's own examples printed, they have already seen
        lines += ["", "Notes:", *(bullet(note) for note in notes)]
    for exercise in report.exercises:
        problem = first_problem(exercise)
        if problem is None or exercise.defined_at is None or NOT_IMPLEMENTED in problem.message:
            continue
        lines += [
            "",
            f"{exercise.name}: {problem.name} {problem.status}",
            indent(problem.message, "  "),
            *(bullet(note) for note in exercise.notes),
        ]
        if problem.output:
            lines.append(indent("printed:\n" + indent(problem.output.rstrip(), "  "), "  "))
        if exercise.example:
            lines.append(indent(example_text(exercise), "  "))
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """A summary for GitHub (job summaries, pull requests): a table, then the first problem of
    each exercise, with messages in code blocks."""
    total = f"{points(report.score)}/{points(report.max_score)}"
    lines = [
        f"## Autograder: {total}",
        "",
        f"Submission `{report.submission}`, seed {report.seed}, isolation {report.isolation}.",
        "",
        "| exercise | score | tests |",
        "|---|---:|---|",
    ]
    for exercise in report.exercises:
        score = f"{points(exercise.score)}/{points(exercise.max_score)}"
        lines.append(f"| `{exercise.name}` | {score} | {cell(summary(exercise))} |")
    lines.append(f"| **total** | **{total}** | |")
    problems = [(e, first_problem(e)) for e in report.exercises if first_problem(e)]
    if problems:
        lines += ["", "<details><summary>What went wrong</summary>", ""]
        for exercise, problem in problems:
            fence = "~~~~"
            lines += [
                f"**{exercise.name}**, {problem.name}: {problem.status}",
                "",
                fence + "text",
                "\n\n".join(filter(None, [problem.message, example_text(exercise)])).replace(
                    fence, "~ ~ ~ ~"
                ),
                fence,
                "",
            ]
        lines.append("</details>")
    withheld = [(e.name, text) for e in report.exercises for text in withheld_credit(e)]
    if withheld:
        lines += ["", "Points withheld from passing tests:", ""]
        lines += [f"- **{name}**, {cell(text)}" for name, text in withheld]
    if report.notes:
        lines += ["", "Notes:", ""] + [f"- {cell(note)}" for note in report.notes]
    return "\n".join(lines) + "\n"
