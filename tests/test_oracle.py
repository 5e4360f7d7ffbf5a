"""The oracle, in numpy float64, against each framework's own convolution operator."""

import numpy as np
import pytest

from grader.oracle import NumpyOracle


def random_convolutions(count: int):
    """(data, weight, bias, padding, strides) of every shape the cases use, and odd ones."""
    rng = np.random.default_rng(7)
    for index in range(count):
        c_i, c_o = (int(n) for n in rng.integers(1, 4, size=2))
        h, w = (int(n) for n in rng.integers(1, 9, size=2))
        k_h, k_w = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        padding = tuple(int(n) for n in rng.integers(0, 3, size=2))
        strides = tuple(int(n) for n in rng.integers(1, 4, size=2))
        data = rng.uniform(-2, 2, size=(c_i, h, w)).astype(np.float32)
        weight = rng.uniform(-2, 2, size=(c_o, c_i, k_h, k_w)).astype(np.float32)
        bias = rng.uniform(-1, 1, size=c_o).astype(np.float32) if index % 2 else None
        yield data, weight, bias, padding, strides


def test_it_agrees_with_mxnet_convolution():
    from grader.frameworks.mxnet import MXNetOracle

    mxnet, oracle = MXNetOracle(), NumpyOracle()
    for data, weight, bias, padding, strides in random_convolutions(150):
        expected = mxnet.convolve(data, weight, bias, padding, strides)
        got = oracle.convolve(data, weight, bias, padding, strides)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        shape = oracle.output_shape(data.shape[1:], weight.shape[2:], padding, strides)
        assert shape == got.shape[1:]


def test_it_agrees_with_pytorch_conv2d():
    torch = pytest.importorskip("torch")
    oracle = NumpyOracle()
    for data, weight, bias, padding, strides in random_convolutions(150):
        expected = torch.nn.functional.conv2d(
            torch.tensor(data[None], dtype=torch.float64),
            torch.tensor(weight, dtype=torch.float64),
            None if bias is None else torch.tensor(bias, dtype=torch.float64),
            stride=strides,
            padding=padding,
        )[0].numpy()
        np.testing.assert_allclose(
            oracle.convolve(data, weight, bias, padding, strides), expected, rtol=1e-12, atol=1e-12
        )


def test_channels_that_do_not_match_are_refused():
    with pytest.raises(ValueError, match="data has 2 channels, the weight expects 3"):
        NumpyOracle().convolve(np.zeros((2, 4, 4)), np.zeros((1, 3, 2, 2)))
