"""Which passing tests earn points: only work that computes something is worth a grade.

Some tests a submission can pass without computing anything: a public case, whose answer is
printed in the book and can be copied, and any case whose expected output is all zeros, a
constant, or one of its inputs (or a part of one). Such a test still gives its feedback, but
its points depend on the exercise's discriminating tests (the hidden cases no trivial answer
passes), as the exercise's `credit` setting says:

- `proportional` (the default): it earns its share times the fraction of the discriminating
  tests that pass. Correct work gets full marks; zeros or copied answers get nothing.
- `all_or_nothing`: it earns its share only when every discriminating test passes.
- `every_test`: every passing test earns its share on its own.

A passing test that earns less says so in its message. An exercise without discriminating
tests (a config with no hidden cases, as in a student's `check`) keeps the plain rule: there
is nothing to weigh its tests against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from grader.cases import Case, trivial_answer
from grader.config import Tolerance
from grader.render import points
from grader.report import TestResult


def discriminating(case: Case, expected: np.ndarray, tolerance: Tolerance) -> bool:
    """Whether passing this case shows computing: a hidden case no trivial answer passes."""
    if case.visibility != "hidden":
        return False
    return trivial_answer(case, expected, tolerance.rtol, tolerance.atol) is None


def evidence_factor(
    tests: Sequence[TestResult], proves: Sequence[bool], rule: str
) -> tuple[float, int, int] | None:
    """(the share of its points a gated test keeps, discriminating tests passed, counted),
    or None when nothing is gated (the rule is every_test, or nothing discriminates)."""
    counted = [t for t, p in zip(tests, proves) if p and t.max_score > 0]
    if rule == "every_test" or not counted:
        return None
    passed = sum(t.status == "passed" for t in counted)
    if rule == "all_or_nothing":
        return float(passed == len(counted)), passed, len(counted)
    return passed / len(counted), passed, len(counted)


def award(tests: Sequence[TestResult], proves: Sequence[bool], rule: str) -> tuple[TestResult, ...]:
    """The tests with the points the rule gives them; a passing test that earns less than its
    share says why in its message.

    tests carry the plain rule's scores (a passing test its share); proves says, test by
    test, whether passing it shows computing (see discriminating)."""
    if len(tests) != len(proves):
        raise ValueError(f"{len(tests)} tests but {len(proves)} evidence flags")
    tests = tuple(tests)
    factor = evidence_factor(tests, proves, rule)
    if factor is None or factor[0] >= 1:
        return tests
    share, passed, counted = factor
    how = (
        f"in proportion to the hidden cases passed ({passed} of {counted})"
        if rule == "proportional"
        else f"only when every hidden case passes ({passed} of {counted} do)"
    )

    def withheld(test: TestResult) -> TestResult:
        earned = test.score * share
        why = (
            f"passed, and earns {points(earned)} of its {points(test.score)} points: public "
            "cases (their answers are printed) and cases that all zeros, a constant or an "
            f"input would pass earn points {how}, which only computing passes"
        )
        message = f"{test.message}\n{why}" if test.message else why
        return replace(test, score=earned, message=message)

    return tuple(
        withheld(t) if not p and t.status == "passed" and t.score > 0 else t
        for t, p in zip(tests, proves)
    )
