"""Diagnoses on hand-made wrong answers (the bug collection in test_grading covers the rest)."""

import numpy as np
import pytest

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
    cause = diagnose_kernel(case, np.zeros((1, 1, 1, 2)))
    assert cause.startswith("the layer's weight has shape (1, 1, 1, 2)")
    assert "reshaped to kernel_size" in cause and "data()" not in cause
    assert diagnose_kernel(case, np.zeros(3)) == (
        "return the learned weight as a 2-D array of shape kernel_size"
    )


class LoopOracle:
    """Enough of an oracle for learn_kernel's cases: one channel in, one out."""

    def convolve(self, data, weight, bias=None, padding=(0, 0), strides=(1, 1)):
        return correlate(data[0], weight[0, 0])[None]


LEARN = EXERCISES["learn_kernel"].hidden_cases(np.random.default_rng(2), 2, LoopOracle())


def trained(case, lr=None, epochs=None, sign=1):
    """Plain gradient descent on the summed squared error, from a small start like Gluon's."""
    X, Y = case.inputs["X"].astype(np.float64), case.inputs["Y"].astype(np.float64)
    kernel = np.full(case.reference["kernel"].shape, 0.05)
    lr = case.params["lr"] if lr is None else lr
    for _ in range(case.params["num_epochs"] if epochs is None else epochs):
        residual = correlate(X, kernel) - Y
        windows = np.lib.stride_tricks.sliding_window_view(X, residual.shape)
        kernel = kernel - sign * lr * 2 * np.einsum("klij,ij->kl", windows, residual)
    return kernel.astype(np.float32)


@pytest.mark.parametrize("case", LEARN, ids=["small amplitude", "large amplitude"])
def test_a_kernel_that_climbs_the_loss_is_told_the_step_has_the_wrong_sign(case):
    assert "the gradient step has the wrong sign" in diagnose_kernel(case, trained(case, sign=-1))


def test_a_kernel_that_diverges_with_too_large_a_step_is_not_told_the_sign_is_wrong():
    case = LEARN[0]
    text = diagnose_kernel(case, trained(case, lr=case.params["lr"] * 3))
    assert "farther from the answer than it started" in text and "wrong sign" not in text


def test_stopping_short_names_the_default_learning_rate_only_when_that_is_what_it_was():
    small = LEARN[0]  # its learning rate is far above 3e-2, so 3e-2 only creeps forward
    assert small.params["lr"] > 0.1
    assert "use the lr argument" in diagnose_kernel(small, trained(small, lr=3e-2))
    text = diagnose_kernel(small, trained(small, epochs=1))
    assert "stopped short" in text and "3e-2" not in text


def test_the_right_kernel_and_noise_near_the_start_get_no_false_cause():
    case = LEARN[1]
    start = np.full(case.reference["kernel"].shape, 0.05, np.float32)
    assert diagnose_kernel(case, start) is None, "no step taken: it neither rose nor fell"
