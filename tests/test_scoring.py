"""The credit rule: only computing earns points. Submissions that answer zeros, a constant,
their inputs or the printed public answers score 0 on every exercise; correct work full marks."""

import pytest
from conftest import (
    ALL_NAMES,
    SOLUTIONS,
    course_config,
    full_marks,
    grade_pooled,
    small_config_data,
    write,
)

from grader.cases import EXERCISES, cases_for, public_case_counts
from grader.config import ConfigError, Tolerance, parse_config
from grader.oracle import NumpyOracle
from grader.report import TestResult
from grader.scoring import award, discriminating

# Every exercise answers with `answer(shape, given)`: what it returns is all this decides.
TRIVIAL_SUBMISSION = """
import numpy as onp
from mxnet import np, npx
from mxnet.gluon import nn

npx.set_np()


def valid_shape(X, K):
    return (X.shape[-2] - K.shape[-2] + 1, X.shape[-1] - K.shape[-1] + 1)


def crop(A, shape):
    a = A.asnumpy()
    while a.ndim > len(shape):
        a = a[0]
    if all(s <= n for s, n in zip(shape, a.shape)):
        return a[tuple(slice(0, s) for s in shape)]
    return onp.resize(a, shape)


{answer}


def corr2d(X, K):
    return answer(valid_shape(X, K), X)


class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        return answer(valid_shape(x, self.weight.data()), x)


def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    return answer(tuple(kernel_size), X)


def comp_conv2d(conv2d, X):
    conv2d.initialize()
    shape = conv2d(X.reshape((1, 1) + X.shape)).shape[2:]
    return answer(shape, X)


def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    return shape_answer(input_shape)


def corr2d_multi_in(X, K):
    return answer(valid_shape(X, K), X)


def corr2d_multi_in_out(X, K):
    return answer((K.shape[0],) + valid_shape(X, K), X)


def corr2d_multi_in_out_1x1(X, K):
    return answer((K.shape[0],) + X.shape[1:], X)
"""

TRIVIAL_ANSWERS = {
    "zeros": "def answer(shape, given):\n    return np.zeros(shape)\n\n\n"
    "def shape_answer(input_shape):\n    return (0, 0)\n",
    "ones": "def answer(shape, given):\n    return np.ones(shape)\n\n\n"
    "def shape_answer(input_shape):\n    return (1, 1)\n",
    "a-constant": "def answer(shape, given):\n    return np.full(shape, 2.0)\n\n\n"
    "def shape_answer(input_shape):\n    return (8, 8)\n",
    "the-inputs": "def answer(shape, given):\n    return np.array(crop(given, shape))\n\n\n"
    "def shape_answer(input_shape):\n    return tuple(input_shape)\n",
}

# The printed answers, looked up by a fingerprint of the arguments; anything else gets zeros.
HARD_CODED_SUBMISSION = """
from mxnet import np, npx
from mxnet.gluon import nn

npx.set_np()

PRINTED = {printed!r}


def key(*arrays):
    return tuple((tuple(a.shape), round(float(a.sum()), 3)) for a in arrays)


def printed(name, fingerprint, shape):
    for known, answer in PRINTED[name]:
        if known == fingerprint:
            return np.array(answer)
    return np.zeros(shape)


def valid_shape(X, K):
    return (X.shape[-2] - K.shape[-2] + 1, X.shape[-1] - K.shape[-1] + 1)


def corr2d(X, K):
    return printed("corr2d", key(X, K), valid_shape(X, K))


class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        fingerprint = key(x, self.weight.data(), self.bias.data())
        return printed("Conv2D", fingerprint, valid_shape(x, self.weight.data()))


def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    return printed("learn_kernel", key(X, Y), tuple(kernel_size))


def comp_conv2d(conv2d, X):
    options = conv2d._kwargs
    fingerprint = key(X) + (tuple(options["kernel"]), tuple(options["pad"]),
                            tuple(options["stride"]))
    return printed("comp_conv2d", fingerprint, X.shape)


def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    fingerprint = (tuple(input_shape), tuple(kernel_size), tuple(padding), tuple(strides))
    for known, answer in PRINTED["conv_output_shape"]:
        if known == fingerprint:
            return tuple(int(v) for v in answer)
    return (8, 8)


def corr2d_multi_in(X, K):
    return printed("corr2d_multi_in", key(X, K), valid_shape(X, K))


def corr2d_multi_in_out(X, K):
    return printed("corr2d_multi_in_out", key(X, K), (K.shape[0],) + valid_shape(X, K))


def corr2d_multi_in_out_1x1(X, K):
    return printed("corr2d_multi_in_out_1x1", key(X, K), (K.shape[0],) + X.shape[1:])
"""


def fingerprint(name, case):
    """The key the hard-coded submission computes from the same arguments."""

    def key(*arrays):
        return tuple((tuple(a.shape), round(float(a.sum()), 3)) for a in arrays)

    i, p = case.inputs, case.params
    if name == "Conv2D":
        return key(i["X"], i["weight"], i["bias"])
    if name == "learn_kernel":
        return key(i["X"], i["Y"])
    if name == "comp_conv2d":
        return key(i["X"]) + tuple(tuple(p[k]) for k in ("kernel_size", "padding", "strides"))
    if name == "conv_output_shape":
        return tuple(tuple(p[k]) for k in ("input_shape", "kernel_size", "padding", "strides"))
    return key(i["X"], i["K"])


def printed_answers():
    """Every public case's answer, as a student would copy it from the book."""
    oracle = NumpyOracle()
    return {
        name: [
            (fingerprint(name, case), exercise.expected(case, oracle).tolist())
            for case in exercise.public_cases()
        ]
        for name, exercise in EXERCISES.items()
    }


def result(status, visibility="hidden", share=1.0):
    return TestResult(
        name=f"{visibility}-case",
        status=status,
        score=share if status == "passed" else 0.0,
        max_score=share,
        message="",
        device="cpu",
        visibility=visibility,
    )


# -- the rule on its own ------------------------------------------------------------------------


def test_public_passes_earn_in_proportion_to_the_discriminating_tests_passed():
    tests = [result("passed", "visible"), result("passed"), result("failed"), result("failed")]
    awarded = award(tests, [False, True, True, True], "proportional")
    assert [t.score for t in awarded] == pytest.approx([1 / 3, 1, 0, 0])
    assert awarded[0].message.startswith("passed, and earns 0.33 of its 1 points")
    assert "in proportion to the hidden cases passed (1 of 3)" in awarded[0].message
    assert [t.status for t in awarded] == [t.status for t in tests], "feedback unchanged"
    assert awarded[1:] == tuple(tests[1:])


def test_all_or_nothing_needs_every_discriminating_test():
    tests = [result("passed", "visible"), result("passed"), result("failed")]
    awarded = award(tests, [False, True, True], "all_or_nothing")
    assert [t.score for t in awarded] == [0, 1, 0]
    assert "only when every hidden case passes (1 of 2 do)" in awarded[0].message
    assert award(tests[:2], [False, True], "all_or_nothing") == tuple(tests[:2])


def test_every_test_is_the_plain_rule_and_without_evidence_nothing_is_gated():
    tests = [result("passed", "visible"), result("failed")]
    assert award(tests, [False, True], "every_test") == tuple(tests)
    public_only = [result("passed", "visible"), result("passed", "visible")]
    assert award(public_only, [False, False], "proportional") == tuple(public_only)


def test_skipped_tests_that_count_for_nothing_do_not_close_the_gate():
    skipped = TestResult("hidden-1 [gpu]", "skipped", 0.0, 0.0, "no GPU", "gpu", "hidden")
    tests = [result("passed", "visible"), result("passed"), skipped]
    assert award(tests, [False, True, True], "proportional") == tuple(tests)


def test_a_mismatched_evidence_list_is_refused():
    with pytest.raises(ValueError, match="2 tests but 1 evidence flags"):
        award([result("passed"), result("passed")], [True], "proportional")


def test_only_hidden_cases_no_trivial_answer_passes_are_evidence():
    oracle = NumpyOracle()
    tolerance = Tolerance(1e-4, 1e-4)
    for exercise in EXERCISES.values():
        for case in exercise.public_cases():
            assert not discriminating(case, exercise.expected(case, oracle), tolerance)
    config = course_config()
    for exercise in config.exercises:
        t = exercise.tolerance
        for case in cases_for(exercise.name, 0, 4, config.seed, oracle, (t.rtol, t.atol)):
            assert discriminating(case, EXERCISES[exercise.name].expected(case, oracle), t)


# -- whole submissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TRIVIAL_ANSWERS))
def test_a_submission_that_computes_nothing_scores_zero_everywhere(tmp_path, kind):
    text = TRIVIAL_SUBMISSION.format(answer=TRIVIAL_ANSWERS[kind])
    report = grade_pooled(write(tmp_path, f"{kind}.py", text))
    assert {e.name: e.score for e in report.exercises} == dict.fromkeys(ALL_NAMES, 0.0)
    assert {e.defined_at is not None for e in report.exercises} == {True}


def test_the_printed_public_answers_pass_their_cases_and_score_zero(tmp_path):
    text = HARD_CODED_SUBMISSION.format(printed=printed_answers())
    report = grade_pooled(write(tmp_path, "copied.py", text))
    assert report.score == 0, {e.name: e.score for e in report.exercises}
    for exercise in report.exercises:
        public = [t for t in exercise.tests if t.visibility == "visible"]
        assert public and all(t.status == "passed" for t in public), exercise.name
        assert all("public cases (their answers are printed)" in t.message for t in public)


def test_correct_work_keeps_full_marks_and_no_credit_message():
    report = grade_pooled(SOLUTIONS)
    assert report.score == report.max_score == 100 and full_marks(report) == ALL_NAMES
    assert not any(t.message for e in report.exercises for t in e.tests)


def test_with_every_test_the_old_loophole_is_back(tmp_path):
    """The config key works end to end: the plain rule pays zeros for the zeros case."""
    from dataclasses import replace

    from grader.config import only_exercises

    config = only_exercises(course_config(), ["corr2d"])
    plain = replace(config, exercises=(replace(config.exercises[0], credit="every_test"),))
    path = write(tmp_path, "zeros.py", TRIVIAL_SUBMISSION.format(answer=TRIVIAL_ANSWERS["zeros"]))
    assert grade_pooled(path, plain).score > 0 == grade_pooled(path, config).score


@pytest.mark.parametrize(
    "where, value, key",
    [
        ("defaults", "sometimes", "defaults.credit"),
        ("corr2d", "half", "exercises.corr2d.credit"),
    ],
)
def test_a_credit_rule_that_does_not_exist_is_refused_naming_the_key(where, value, key):
    data = small_config_data()
    section = data["defaults"] if where == "defaults" else data["exercises"][where]
    section["credit"] = value
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "course.yaml", public_case_counts())
    assert str(refused.value) == (
        f"course.yaml: {key}: expected one of proportional, all_or_nothing, every_test, "
        f"got {value!r}"
    )


def test_an_exercise_may_set_its_own_credit_rule():
    data = small_config_data()
    data["defaults"]["credit"] = "all_or_nothing"
    data["exercises"]["corr2d"]["credit"] = "every_test"
    config = parse_config(data, "course.yaml", public_case_counts())
    assert config.exercise("corr2d").credit == "every_test"
    assert config.exercise("Conv2D").credit == "all_or_nothing"
