"""Diagnoses on hand-made wrong answers (the bug collection in test_grading covers the rest)."""

import numpy as np

from grader.cases import EXERCISES
from grader.diagnosis import correlate, diagnose_array, diagnose_kernel, diagnose_shape

CORR2D = EXERCISES["corr2d"].hidden_cases(np.random.default_rng(1), 4, None)[3]
CONV2D = EXERCISES["Conv2D"].public_cases()[1]  # the 3x3 example with bias 1
SHAPES = EXERCISES["conv_output_shape"].public_cases()[2]  # (8, 8), (3, 5), (0, 1), (3, 4)


def corr2d_expected(case):
    return correlate(case.inputs["X"], case.inputs["K"])


def test_only_the_first_row_right():
    expected = corr2d_expected(CORR2D)
    got = expected.copy()
    got[1:] += 1
    assert "only the first row is right" in diagnose_array("corr2d", CORR2D, expected, got)


def test_bias_doubled():
    expected = correlate(CONV2D.inputs["X"], CONV2D.inputs["weight"]) + 1
    assert "added twice" in diagnose_array("Conv2D", CONV2D, expected, expected + 1)


def test_noise_gets_no_diagnosis_and_a_diagnosis_shows_no_values():
    expected = corr2d_expected(CORR2D)
    noise = np.random.default_rng(0).normal(size=expected.shape)
    assert diagnose_array("corr2d", CORR2D, expected, noise) is None
    text = diagnose_array("corr2d", CORR2D, expected, expected.T.copy()) or ""
    assert not any(f"{v:g}" in text for v in expected.reshape(-1) if abs(v) >= 10)


def test_a_missing_plus_one_in_the_shape_formula():
    assert "the + 1 is missing" in diagnose_shape(SHAPES, np.array([2, 2]), np.array([1, 1]))


def test_a_kernel_returned_with_its_batch_dimensions():
    case = EXERCISES["learn_kernel"].public_cases()[0]
    assert "2-D array of shape kernel_size" in diagnose_kernel(case, np.zeros((1, 1, 1, 2)))
