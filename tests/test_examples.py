"""The smallest failing example: inputs anyone may see, tried smallest first, never scored."""

import numpy as np
import pytest
from bugs import buggy_text
from conftest import course_config, grade_pooled, small_config, solution_text, with_change, write

from grader.cases import EXERCISES, cases_for
from grader.checks import Verdict
from grader.examples import (
    NOT_SHRUNK,
    SECONDS_PER_TRY,
    Failures,
    Fingerprint,
    example_cases,
    fingerprint,
    size,
    smallest_failing_example,
    whole_numbers,
)
from grader.oracle import NumpyOracle
from grader.sandbox import SandboxResult

SHRUNK = [name for name in EXERCISES if name not in NOT_SHRUNK]


def exercise_of(report, name):
    return next(e for e in report.exercises if e.name == name)


@pytest.fixture(scope="module")
def oracle():
    return NumpyOracle()


@pytest.mark.parametrize("name", SHRUNK)
def test_examples_are_small_whole_numbers_first_and_never_the_hidden_cases(name, oracle):
    examples = example_cases(name, oracle)
    assert len(examples) >= 8 and all(case.public for case in examples)
    whole = [case for case in examples if whole_numbers(case)]
    assert examples[: len(whole)] == tuple(whole), "whole numbers come first"
    real = examples[len(whole) :]
    for group in (whole, real):
        assert [size(case) for case in group] == sorted(size(case) for case in group)
    course = course_config()
    hidden = cases_for(name, 0, course.exercise(name).hidden_cases, course.seed, oracle)
    for example in examples:
        for case in hidden:
            assert not (
                example.params == case.params
                and all(np.array_equal(example.inputs[k], v) for k, v in case.inputs.items())
            ), f"{example.description} is a hidden case"


def test_only_a_wrong_answer_or_an_exception_has_a_fingerprint():
    wrong = SandboxResult("returned", array=np.zeros((2, 2)))
    assert fingerprint(Verdict("passed", ""), wrong) is None
    assert fingerprint(Verdict("timeout", "slow"), SandboxResult("timeout")) is None
    assert fingerprint(Verdict("failed", "None"), SandboxResult("returned")) is None
    flipped = fingerprint(Verdict("failed", "...", "flipped"), wrong)
    assert flipped is not None and flipped.diagnosis == "flipped"
    raised = fingerprint(Verdict("error", "..."), SandboxResult("raised", "IndexError: 3"))
    assert raised is not None and raised.error == "IndexError"


def test_a_public_failure_gets_a_smaller_example_that_fails_the_same_way(tmp_path):
    report = grade_pooled(write(tmp_path, "flip.py", buggy_text("flipped-kernel")), small_config())
    corr2d = exercise_of(report, "corr2d")
    public = corr2d.tests[0]
    assert public.status == "failed" and "public case" in public.message
    example = corr2d.example
    assert example is not None and example.diagnosis == public.diagnosis
    assert example.message.startswith("small example: ")
    shown = example.message.count(".,") + example.message.count(".]")
    assert 0 < shown < 9 + 4 + 4, "fewer values than the 3x3 example, its kernel and result"
    assert "expected [[" in example.message and "got      [[" in example.message
    assert example.comparison is not None


def test_a_bug_only_hidden_cases_catch_is_shown_on_a_small_example(tmp_path):
    """The public cases hold whole numbers, so truncating to integers passes them all."""
    path = write(tmp_path, "truncate.py", buggy_text("integer-truncation"))
    corr2d = exercise_of(grade_pooled(path, small_config(hidden_cases=4)), "corr2d")
    assert all(t.status == "passed" for t in corr2d.tests if t.visibility == "visible")
    assert any(t.status == "failed" for t in corr2d.tests if t.visibility == "hidden")
    example = corr2d.example
    assert example is not None and "integer dtype" in example.diagnosis
    assert "real-valued" in example.message and "X = [[" in example.message
    assert example.visibility == "example"


def test_an_exception_is_shown_on_the_smallest_input_that_raises(tmp_path):
    text = with_change(
        solution_text(),
        "    h, w = K.shape\n",
        "    h, w = K.shape\n    if X.size > 6:\n        raise IndexError('only small inputs')\n",
    )
    corr2d = exercise_of(grade_pooled(write(tmp_path, "small.py", text), small_config()), "corr2d")
    assert corr2d.tests[0].status == "error"
    example = corr2d.example
    assert example is not None and example.status == "error"
    assert "raised IndexError: only small inputs" in example.message
    assert "small example: " in example.message and "X = [[" in example.message


def test_a_correct_or_unfinished_submission_gets_no_example(tmp_path):
    solved = grade_pooled(write(tmp_path, "solved.py", solution_text()), small_config())
    assert all(e.example is None for e in solved.exercises)
    hang = "def corr2d(X, K):\n    while True:\n        pass\n"
    slow = exercise_of(grade_pooled(write(tmp_path, "hang.py", hang), small_config()), "corr2d")
    assert slow.tests[0].status == "timeout" and slow.example is None


def test_the_search_stops_when_its_time_budget_is_spent(oracle):
    """Each try of a slow, wrong answer takes 1.5 s: after 3 tries the 4 s budget is spent."""
    examples = example_cases("corr2d", oracle)
    tried = []

    def slow_and_wrong(case, expected, time_limit):
        tried.append(time_limit)
        result = SandboxResult("returned", array=np.zeros_like(expected), seconds=1.5)
        return Verdict("failed", "wrong"), result

    target = fingerprint(Verdict("failed", "", "flipped"), SandboxResult("returned", array=[0]))
    found = smallest_failing_example(
        target, examples, tuple(np.ones((1, 1)) for _ in examples), 10**9, slow_and_wrong, 4.0
    )
    assert found is None and tried == [SECONDS_PER_TRY] * 3


def test_failures_keep_the_first_way_and_the_smallest_public_input_failing_that_way(oracle):
    public = EXERCISES["corr2d"].public_cases()  # the 3x3 example, the edge image, transposed
    hidden = cases_for("corr2d", 0, 1, 7, oracle)[0]
    flipped, other = Fingerprint("failed", "flipped", ""), Fingerprint("failed", "", "")
    failures = Failures()
    failures.record(flipped, hidden)
    assert failures.smallest_shown() == 2**62, "no public input shows it: any example will do"
    failures.record(flipped, public[1])
    failures.record(other, public[0])
    assert failures.first == flipped and failures.smallest_shown() == size(public[1])
