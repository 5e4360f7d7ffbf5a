"""The trusted convolution every expected value comes from: numpy, in float64.

It depends on no framework, so both editions are graded against the same numbers and the
grader's own process imports neither MXNet nor PyTorch. tests/test_oracle.py checks it against
each framework's own convolution operator.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class NumpyOracle:
    """data (c_i, h, w), weight (c_o, c_i, k_h, k_w) -> (c_o, h', w'), as a deep-learning
    framework's convolution computes it: a cross-correlation, zero padding, strides."""

    def convolve(
        self,
        data: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        padding: tuple[int, int] = (0, 0),
        strides: tuple[int, int] = (1, 1),
    ) -> np.ndarray:
        data = np.asarray(data, dtype=np.float64)
        weight = np.asarray(weight, dtype=np.float64)
        c_o, c_i, k_h, k_w = weight.shape
        if data.shape[0] != c_i:
            raise ValueError(f"data has {data.shape[0]} channels, the weight expects {c_i}")
        (p_h, p_w), (s_h, s_w) = padding, strides
        padded = np.pad(data, ((0, 0), (p_h, p_h), (p_w, p_w)))
        windows = sliding_window_view(padded, (k_h, k_w), axis=(1, 2))[:, ::s_h, ::s_w]
        out = np.einsum("chwij,ocij->ohw", windows, weight)
        if bias is not None:
            out = out + np.broadcast_to(np.asarray(bias, dtype=np.float64), (c_o,))[:, None, None]
        return out

    def output_shape(
        self,
        input_shape: tuple[int, int],
        kernel_size: tuple[int, int],
        padding: tuple[int, int],
        strides: tuple[int, int],
    ) -> tuple[int, int]:
        # The number of window positions that fit in the padded input, counted.
        return tuple(
            len(range(0, n + 2 * p - k + 1, s))
            for n, k, p, s in zip(input_shape, kernel_size, padding, strides, strict=True)
        )
