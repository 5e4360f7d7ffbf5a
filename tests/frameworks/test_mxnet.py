import numpy as np
import pytest

from grader.frameworks import mxnet as mxnet_backend
from grader.frameworks.mxnet import MXNetOracle, plain_result


@pytest.fixture(scope="module")
def oracle():
    return MXNetOracle()


def naive_convolution(data, weight, bias, padding, strides):
    """Textbook definition, independent of MXNet: zero-pad, slide with stride, sum."""
    c_o, c_i, k_h, k_w = weight.shape
    (p_h, p_w), (s_h, s_w) = padding, strides
    padded = np.pad(data, ((0, 0), (p_h, p_h), (p_w, p_w)))
    out_h = (padded.shape[1] - k_h) // s_h + 1
    out_w = (padded.shape[2] - k_w) // s_w + 1
    out = np.zeros((c_o, out_h, out_w))
    for o in range(c_o):
        for i in range(out_h):
            for j in range(out_w):
                window = padded[:, i * s_h : i * s_h + k_h, j * s_w : j * s_w + k_w]
                out[o, i, j] = np.sum(window * weight[o]) + (bias[o] if bias is not None else 0)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_oracle_agrees_with_the_textbook_definition(oracle, seed):
    rng = np.random.default_rng(seed)
    c_i, c_o = rng.integers(1, 4, size=2)
    data = rng.uniform(-2, 2, size=(c_i, 7, 6))
    weight = rng.uniform(-2, 2, size=(c_o, c_i, 3, 2))
    bias = rng.uniform(size=c_o) if seed % 2 else None
    padding, strides = (seed % 3, 1), (1 + seed % 2, 2)
    got = oracle.convolve(data, weight, bias, padding, strides)
    np.testing.assert_allclose(
        got, naive_convolution(data, weight, bias, padding, strides), rtol=1e-12, atol=1e-12
    )
    assert got.dtype == np.float64


def test_the_oracle_output_shape_matches_the_formula(oracle):
    for n, k, p, s in [
        ((8, 8), (3, 3), (1, 1), (2, 2)),
        ((8, 8), (3, 5), (0, 1), (3, 4)),
        ((1, 9), (1, 2), (0, 0), (1, 3)),
        ((5, 7), (7, 4), (1, 2), (2, 1)),
    ]:
        formula = tuple((n_ + 2 * p_ - k_) // s_ + 1 for n_, k_, p_, s_ in zip(n, k, p, s))
        assert oracle.output_shape(n, k, p, s) == formula


def test_plain_results_keep_the_type_and_the_values(oracle):
    mx = oracle.mx
    type_name, array = plain_result(mx.np.ones((2, 3)))
    assert type_name == "mxnet.numpy.ndarray" and array.shape == (2, 3)
    assert plain_result([[1, 2], [3, 4]])[0] == "builtins.list"
    assert plain_result([[1, 2], [3, 4]])[1].tolist() == [[1, 2], [3, 4]]
    assert plain_result((8, 8))[1].tolist() == [8, 8]
    assert plain_result(None)[1] is None
    assert plain_result("19 25 37 43")[1] is None
    assert plain_result([np.ones(2), "x"])[1] is None


def test_call_exercise_runs_a_function_on_the_cpu_with_float32_inputs(oracle):
    seen = {}

    def corr2d(X, K):
        seen.update(dtype=X.dtype, context=str(X.ctx), kind=type(X).__name__)
        return X[:1, :1] * K.sum()

    inputs = {"X": np.ones((3, 3), np.float32), "K": np.full((2, 2), 2, np.float32)}
    value, after, context = mxnet_backend.call_exercise("corr2d", corr2d, inputs, {}, "cpu")
    assert context == "cpu(0)"
    assert seen == {"dtype": np.float32, "context": "cpu(0)", "kind": "ndarray"}
    assert float(value.asnumpy()[0, 0]) == 8.0
    assert set(after) == {"X", "K"} and after["K"].tolist() == [[2, 2], [2, 2]]


def test_conv2d_with_a_wrong_weight_shape_is_a_clear_interface_error(oracle):
    nn = oracle.mx.gluon.nn

    class Conv2D(nn.Block):
        def __init__(self, kernel_size, **kwargs):
            super().__init__(**kwargs)
            self.weight = self.params.get("weight", shape=(1, 1) + kernel_size)
            self.bias = self.params.get("bias", shape=(1,))

    inputs = {
        "X": np.ones((3, 3), np.float32),
        "weight": np.ones((2, 2), np.float32),
        "bias": np.zeros(1, np.float32),
    }
    with pytest.raises(mxnet_backend.WrongInterface, match=r"weight has shape \(1, 1, 2, 2\)"):
        mxnet_backend.call_exercise("Conv2D", Conv2D, inputs, {}, "cpu")


def test_the_grader_checks_the_frameworks_are_there_without_importing_them():
    """The worker imports the framework while the grader builds the cases: checking first
    must not import it in the grader too (that took seconds, one after the other)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from grader.frameworks import mxnet, pytorch\n"
        "mxnet.check_installed()\n"
        "try:\n"
        "    pytorch.check_installed()\n"
        "except OSError as error:\n"
        "    print(error)\n"
        "assert 'mxnet' not in sys.modules and 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
