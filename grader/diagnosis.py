"""Name the likely mistake behind a wrong answer, from its fingerprint.

Runs in the grader on plain numpy arrays. Each hypothesis recomputes what a common mistake
would have produced for this case (the kernel flipped, the output transposed, the bias left
out, channels averaged, ...) and compares it with the student's answer. A diagnosis is one
sentence a student can act on; it never contains expected values, so it is safe for hidden
cases too.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.cases import Case

DEFAULT_LR = 3e-2


def init_scale(case: Case) -> float:
    """How far from 0 the framework graded starts each weight (every learn_kernel case says,
    see cases.py)."""
    return float(case.reference["init_bound"])


def close(got: np.ndarray, candidate: np.ndarray) -> bool:
    return got.shape == candidate.shape and bool(np.allclose(got, candidate, rtol=1e-4, atol=1e-4))


def correlate(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """2-D valid cross-correlation in float64 (only to test hypotheses, never to grade)."""
    windows = sliding_window_view(X.astype(np.float64), K.shape)
    return np.einsum("ijkl,kl->ij", windows, K.astype(np.float64))


def flipped_result(exercise: str, case: Case) -> np.ndarray | None:
    """What a true convolution (the kernel flipped) would have returned."""
    i = case.inputs
    if exercise == "corr2d":
        return correlate(i["X"], i["K"][::-1, ::-1])
    if exercise == "Conv2D":
        return correlate(i["X"], i["weight"][::-1, ::-1]) + i["bias"][0]
    if exercise == "corr2d_multi_in":
        return sum(correlate(x, k[::-1, ::-1]) for x, k in zip(i["X"], i["K"]))
    if exercise == "corr2d_multi_in_out":
        return np.stack(
            [sum(correlate(x, k[::-1, ::-1]) for x, k in zip(i["X"], ko)) for ko in i["K"]]
        )
    return None


def shape_formula(got: tuple, case: Case, expected: tuple) -> str | None:
    """Which formula gives the student's rows or columns, for a valid cross-correlation."""
    kernel = case.inputs.get("K", case.inputs.get("weight"))
    if "X" not in case.inputs or kernel is None or len(got) != len(expected) or len(got) < 2:
        return None
    n, k = case.inputs["X"].shape[-2:], kernel.shape[-2:]
    formulas = {
        "n - k": lambda n, k: n - k,
        "n - k + 2": lambda n, k: n - k + 2,
        "n + k - 1 (a full convolution)": lambda n, k: n + k - 1,
        "n (the input's own size)": lambda n, k: n,
    }
    for axis, (name, letter) in enumerate((("rows", "h"), ("columns", "w"))):
        size = got[len(got) - 2 + axis]
        if size == expected[len(got) - 2 + axis]:
            continue
        for text, formula in formulas.items():
            if size == formula(n[axis], k[axis]):
                named = text.replace("n", f"n_{letter}", 1).replace("k", f"k_{letter}", 1)
                return (
                    f"your output has {named} {name}; a valid cross-correlation gives "
                    f"n_{letter} - k_{letter} + 1"
                )


def diagnose_array(exercise: str, case: Case, expected: np.ndarray, got: np.ndarray) -> str | None:
    """The likely mistake behind a wrong array answer, or None."""
    if got.shape != expected.shape:
        if got.shape == expected.shape[::-1] or (
            got.ndim == 3 and got.shape == tuple(np.moveaxis(expected, 0, -1).shape)
        ):
            stacked = np.moveaxis(expected, 0, -1) if got.ndim == 3 else None
            if stacked is not None and close(got, stacked):
                return (
                    "the output channels are stacked on the last axis: stack them on axis "
                    "0, so that the result has the shape (c_o, h, w)"
                )
            if got.ndim == 2 and close(got, expected.T):
                return "your output is transposed: rows and columns are swapped"
        if exercise == "corr2d_multi_in_out" and got.ndim == 3:
            for axis in (1, 2):
                if close(got, np.moveaxis(expected, 0, axis)):
                    return (
                        f"the output channels are stacked on axis {axis}: stack them on "
                        f"axis 0, so that the result has the shape (c_o, h, w)"
                    )
        if exercise == "comp_conv2d" and got.ndim == 4 and close(got[0, 0], expected):
            return (
                "the batch and channel dimensions are still there: drop the first two "
                "dimensions, Y.reshape(Y.shape[2:])"
            )
        squeezed = tuple(n for n in expected.shape if n != 1)
        if got.shape == squeezed and close(got, expected.reshape(squeezed)):
            cause = (
                f"the output's own dimension of size 1 was dropped (expected "
                f"{expected.shape}): squeeze() removes every dimension of size 1"
            )
            if exercise == "comp_conv2d":
                cause += "; drop only the first two, Y.reshape(Y.shape[2:])"
            return cause
        return shape_formula(got.shape, case, expected.shape)
    if (
        got.ndim == 2
        and got.shape[0] == got.shape[1]
        and close(got, expected.T)
        and not close(got, expected)
    ):
        return "your output is transposed: rows and columns are swapped"
    flipped = flipped_result(exercise, case)
    if flipped is not None and close(got, flipped):
        return (
            "you computed a true convolution: the kernel is flipped. Cross-correlation "
            "multiplies each window by K as it is, not by K turned around"
        )
    if np.issubdtype(got.dtype, np.integer) and close(got, np.trunc(expected)):
        return (
            f"your output has the integer dtype {got.dtype}, which cuts off the fractional "
            f"part of each sum: create the output array as floats"
        )
    if exercise == "Conv2D":
        bias = float(case.inputs["bias"][0])
        if bias and close(got, expected - bias):
            return "the bias is missing: forward must add the bias to the result"
        if bias and close(got, expected + bias):
            return "the bias is added twice: forward must add the bias once"
    channels = case.inputs["X"].shape[0] if exercise.startswith("corr2d_multi") else 1
    if channels > 1 and close(got, expected / channels):
        return (
            "the input channels are averaged: add up the per-channel results instead of "
            "taking their mean"
        )
    if (
        got.ndim >= 2
        and got.shape[-2] > 1
        and close(got[..., 0, :], expected[..., 0, :])
        and not close(got[..., 1:, :], expected[..., 1:, :])
    ):
        return (
            "only the first row is right: check how the window moves down, for example "
            "the row index of X[i : i + h, j : j + w]"
        )
    if (
        got.ndim >= 2
        and got.shape[-1] > 1
        and close(got[..., :, 0], expected[..., :, 0])
        and not close(got[..., :, 1:], expected[..., :, 1:])
    ):
        return (
            "only the first column is right: check how the window moves right, for "
            "example the column index of X[i : i + h, j : j + w]"
        )
    return None


def diagnose_shape(case: Case, expected: np.ndarray, got: np.ndarray) -> str | None:
    """The likely mistake behind a wrong conv_output_shape."""
    p = case.params
    n, k, pad, s = (
        np.array(p[key]) for key in ("input_shape", "kernel_size", "padding", "strides")
    )
    got = tuple(int(v) for v in got)
    hypotheses = {
        "padding is counted once, but it is added on each side: use n + 2 * p": (n + pad - k) // s
        + 1,
        "the stride is ignored: divide by it, (n + 2 * p - k) // s + 1": n + 2 * pad - k + 1,
        "the division rounds up; the output size rounds down: (n + 2 * p - k) // s + 1": np.array(
            [math.ceil(v) for v in (n + 2 * pad - k) / s]
        )
        + 1,
        "the + 1 is missing: a window fits (n + 2 * p - k) // s + 1 times": (n + 2 * pad - k) // s,
    }
    for text, shape in hypotheses.items():
        candidate = tuple(int(v) for v in shape)
        if got == candidate and candidate != tuple(int(v) for v in expected):
            return text
    return None


def patches(X: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The input's windows as rows: correlate(X, K) is patches(X, K.shape) @ K.ravel()."""
    return sliding_window_view(X.astype(np.float64), shape).reshape(-1, int(np.prod(shape)))


def squared_error(case: Case, kernel: np.ndarray) -> float:
    """The summed squared error the training minimizes, for a kernel."""
    residual = correlate(case.inputs["X"], kernel) - case.inputs["Y"].astype(np.float64)
    return float(np.sum(residual**2))


def starting_errors(case: Case, shape: tuple[int, ...]) -> tuple[float, float]:
    """Bounds (lowest, highest) of the error at any kernel the framework's initialization can
    start from (each weight within init_scale of 0). The error is convex in the kernel: its
    highest value on that box is at a corner, and its tangent at 0 bounds it from below."""
    A = patches(case.inputs["X"], shape)
    y = case.inputs["Y"].astype(np.float64).ravel()
    scale = init_scale(case)
    corners = np.array(np.meshgrid(*[[-scale, scale]] * A.shape[1])).reshape(A.shape[1], -1)
    highest = float(np.max(np.sum((A @ corners - y[:, None]) ** 2, axis=0)))
    gradient_at_zero = -2 * A.T @ y
    lowest = float(y @ y - scale * np.abs(gradient_at_zero).sum())
    return lowest, highest


def replays(case: Case, got: np.ndarray, lr: float, sign: int) -> bool:
    """Whether got is where num_epochs steps of weight -= sign * lr * grad lead from some
    kernel the framework's initialization can give, with the error summed (as the book does) or
    averaged. The error is quadratic, so each step multiplies the distance to the true
    kernel, along each eigenvector of the Hessian H, by 1 - sign * lr * eigenvalue."""
    true = case.reference["kernel"].astype(np.float64)
    A = patches(case.inputs["X"], true.shape)
    radius = init_scale(case) * np.sqrt(true.size)  # the farthest an initialization is from 0
    slack = 0.01 + 1e-5 * float(np.abs(got).max())  # float32 rounding during training
    for scale in (1.0, 1.0 / A.shape[0]):
        eigenvalues, vectors = np.linalg.eigh(scale * 2 * A.T @ A)
        factor = (1 - sign * lr * eigenvalues) ** case.params["num_epochs"]
        ended = vectors.T @ (got.astype(np.float64) - true).ravel()
        predicted = factor * (vectors.T @ -true.ravel())  # starting from 0
        if np.all(np.abs(ended - predicted) <= np.abs(factor) * radius + slack):
            return True
    return False


def diagnose_kernel(case: Case, got: np.ndarray) -> str | None:
    """The likely mistake behind a learned kernel that is not the true one."""
    true = case.reference["kernel"].astype(np.float64)
    if got.shape != true.shape:
        if got.size == true.size and got.ndim == 4:
            return (
                f"the layer's weight has shape {tuple(got.shape)}, its output and input "
                "channels first: return it reshaped to kernel_size, a 2-D array"
            )
        return "return the learned weight as a 2-D array of shape kernel_size"
    if not np.all(np.isfinite(got)):
        return (
            "the kernel ran off to infinity, so the loss rose at every step: step against "
            "the gradient, weight -= lr * grad, with the learning rate you are given"
        )
    lowest, highest = starting_errors(case, true.shape)
    error = squared_error(case, got)
    if error > highest and replays(case, got, case.params["lr"], sign=-1):
        return (
            "the kernel moved away from the answer at every step, so the loss rose: the "
            "gradient step has the wrong sign (weight += lr * grad climbs the loss); step "
            "against it, weight -= lr * grad"
        )
    if error > highest:
        return (
            "the kernel ended farther from the answer than it started, so the loss rose: "
            "step against the gradient, weight -= lr * grad, with the learning rate you are given"
        )
    # From a far start (PyTorch's) a kernel that stopped short may not be below every start's
    # error; where descent at 3e-2 leads from some start still shows that lr was ignored.
    if case.params["lr"] != DEFAULT_LR and replays(case, got, DEFAULT_LR, sign=1):
        return (
            "the kernel moved toward the answer but did not get there in num_epochs "
            "epochs, as with a learning rate of 3e-2: use the lr argument (this case "
            "does not use 3e-2)"
        )
    if error < lowest:
        return (
            "the kernel moved toward the answer but stopped short of it: take all "
            "num_epochs steps, each weight -= lr * grad with the learning rate you are given"
        )
    return None
