"""`check()` for a notebook cell: this notebook's own code against the public cases.

In Jupyter it grades the cells run so far (their raw text, from IPython's history), so what is
checked is what the student sees; outside IPython it grades the running script's file. The
code runs in the sandboxed worker like any submission, and the result shows as HTML in
Jupyter and as text elsewhere.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import replace
from pathlib import Path

from grader.config import default_config_path, load_config, only_exercises, public_only
from grader.report import ExerciseResult, Report, TestResult
from grader.submission import Cell, SourceFile, Submission, read_submission, without_ipython_lines

# Cells that call check() again must not run inside the worker: that would grade recursively.
CHECK_LINE = re.compile(r"^\s*(from grader\b|import grader\b|(grader\.)?check\()")


def executed_cells() -> list[str] | None:
    """The raw text of the cells run so far, without this one; None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    return list(shell.history_manager.input_hist_raw[1:-1])


def without_check_calls(text: str) -> str:
    return "\n".join(
        re.sub(r"^(\s*).*$", r"\1pass", line) if CHECK_LINE.match(line) else line
        for line in text.splitlines()
    )


def this_notebook() -> Submission:
    cells = executed_cells()
    if cells is None:
        return read_submission(Path(sys.modules["__main__"].__file__))
    here = Path.cwd()
    sources = tuple(
        Cell(f"notebook, cell {number}", without_check_calls(without_ipython_lines(text)))
        for number, text in enumerate(cells, start=1)
        if text.strip()
    )
    siblings = tuple(sorted(here.glob("*.py")))  # so `from conv_layer import corr2d` works
    return Submission(
        "this notebook", here, siblings, (SourceFile("notebook", "__main__", sources),), ()
    )


def problem_html(problem: TestResult, exercise: ExerciseResult) -> str:
    """The first problem in full, with heatmaps; then the smallest failing input, if found."""
    from grader.html_report import example_block, heatmaps

    parts = [f"<pre style='white-space:pre-wrap'>{html.escape(problem.message)}</pre>"]
    if problem.comparison:
        parts.append(heatmaps(problem.comparison))
    if exercise.example:
        parts.append(example_block(exercise.example))
    return "".join(parts)


class CheckResult:
    """A check's report, shown as HTML by Jupyter and as text by a terminal."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __repr__(self) -> str:
        from grader.render import render_check

        return render_check(self.report)

    def _repr_html_(self) -> str:
        rows = []
        for exercise in self.report.exercises:
            problems = [t for t in exercise.tests if t.status not in ("passed", "skipped")]
            passed = exercise.count("passed")
            counted = len([t for t in exercise.tests if t.status != "skipped"])
            verdict = "pass" if not problems and counted else "FAIL"
            color = "#1a7f37" if verdict == "pass" else "#cf222e"
            detail = problem_html(problems[0], exercise) if problems else ""
            rows.append(
                f"<tr><td><code>{exercise.name}</code></td>"
                f"<td style='color:{color};font-weight:bold'>{verdict}</td>"
                f"<td>{passed}/{counted}</td><td>{detail}</td></tr>"
            )
        return (
            "<div><style>.maps{display:flex;flex-wrap:wrap;gap:1em}.maps figure{margin:0}</style>"
            "<p>Public cases (the examples from the book); hidden cases run when your "
            "work is graded.</p><table><tr><th>exercise</th><th></th><th>public cases</th>"
            "<th>first problem</th></tr>" + "".join(rows) + "</table></div>"
        )


def check(
    *names: str, config: str | Path | None = None, framework: str | None = None
) -> CheckResult:
    """Check the named exercises (all if none) of the code run so far, on the public cases;
    framework ("mxnet" or "pytorch") overrides the config's."""
    from grader.cases import public_case_counts
    from grader.grading import grade_submission

    course = load_config(Path(config) if config else default_config_path(), public_case_counts())
    if framework:
        course = replace(course, framework=framework)
    if names:
        course = only_exercises(course, list(names))
    return CheckResult(grade_submission(this_notebook(), public_only(course), device="cpu"))
