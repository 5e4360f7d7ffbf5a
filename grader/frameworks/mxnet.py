"""Everything MXNet-specific, in one place; pytorch.py is its sibling with the same names.

Trusted side (the grader's process): `check_installed` and `gpu_count`; `MXNetOracle` is
MXNet's own convolution in float64, which tests/test_oracle.py holds the oracle to.
Student side (the worker process): `call_exercise` places inputs on a device, calls the
student's name the way the exercise means it to be called and says the result's context, and
`plain_result` turns whatever came back into plain numpy. Nothing here compares or scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp

from grader.frameworks.calls import WrongInterface, callers, plain_numbers, type_name

FRAMEWORK = "mxnet"
# What a returned array's type is called in results, for each of MXNet's two array APIs.
ARRAY_TYPES = {"np": "mxnet.numpy.ndarray", "nd": "mxnet.ndarray.ndarray.NDArray"}
ARRAY_DESCRIPTIONS = {ARRAY_TYPES["np"]: "an mxnet.np array", ARRAY_TYPES["nd"]: "an NDArray"}
ACCEPTED_ARRAY_TYPES = tuple(ARRAY_TYPES.values())
SHAPE_TYPES = ("builtins.tuple",)
ARRAY_DESCRIPTION = "an MXNet array"
SAME_DEVICE_HINT = (
    "create new arrays on the input's device (for example np.zeros(shape, ctx=X.ctx)), "
    "not on a fixed one"
)


def _mxnet():
    from grader.frameworks.mxnet_compat import import_mxnet

    import_mxnet()  # numpy 1.26/2.x and Python 3.12+ names first; a missing library said plainly
    import mxnet as mx

    return mx


def load() -> None:
    """Import MXNet, once, before any student code (the worker's start)."""
    _mxnet()


def check_installed() -> None:
    """In the grader, before grading, without importing MXNet (the worker does that): MXNet
    is installed and its system libraries load, or an OSError (MXNetUnavailable) says what to
    install."""
    from grader.frameworks.mxnet_compat import check_mxnet_loads

    check_mxnet_loads()


def keep_gpu_closed() -> None:
    """Nothing to do: MXNet's CPU build has no GPU, and its CUDA builds cannot be kept from
    initializing CUDA in a process from Python (GPU grading is PyTorch's, see the README)."""


def open_gpu() -> None:
    """See keep_gpu_closed."""


def use_api(api: str) -> None:
    """Put MXNet in the mode an array API runs in: np (`npx.set_np()`) or legacy nd. Gluon
    makes its parameters in the current mode, so nd code must not run in np mode."""
    npx = _mxnet().npx
    if api == "nd":
        npx.reset_np()
    else:
        npx.set_np()


def initial_weight_bound(kernel_shape: tuple[int, ...]) -> float:
    """Gluon's default initializer: each weight Uniform(-0.07, 0.07)."""
    return 0.07


def gpu_count() -> int:
    """GPUs MXNet can use here (0 with the CPU-only wheel)."""
    try:
        return int(_mxnet().context.num_gpus())
    except Exception:  # a CUDA build on a machine without a driver raises here
        return 0


class MXNetOracle:
    """MXNet's convolution operator, in float64 on the CPU: what grader/oracle.py must agree
    with (the tests check it does)."""

    def __init__(self) -> None:
        self.mx = _mxnet()
        use_api("np")

    def convolve(self, data, weight, bias=None, padding=(0, 0), strides=(1, 1)) -> onp.ndarray:
        np, npx = self.mx.np, self.mx.npx
        c_o, _, k_h, k_w = weight.shape
        args = [np.array(data[None], dtype="float64"), np.array(weight, dtype="float64")]
        if bias is not None:
            args.append(np.array(onp.broadcast_to(bias, (c_o,)), dtype="float64"))
        out = npx.convolution(
            *args,
            kernel=(k_h, k_w),
            num_filter=c_o,
            pad=tuple(padding),
            stride=tuple(strides),
            no_bias=bias is None,
        )
        return out.asnumpy()[0]

    def output_shape(self, input_shape, kernel_size, padding, strides) -> tuple[int, int]:
        data = onp.zeros((1, *input_shape))
        weight = onp.zeros((1, 1, *kernel_size))
        return tuple(int(n) for n in self.convolve(data, weight, None, padding, strides).shape[1:])


# -- the student side ----------------------------------------------------------------------------


def book_corr2d(X: Any, K: Any) -> Any:
    """The flat `d2l.corr2d` of 2019: 2-D cross-correlation in the API of X, on X's device."""
    mx = _mxnet()
    h, w = K.shape
    shape = (X.shape[0] - h + 1, X.shape[1] - w + 1)
    if isinstance(X, mx.np.ndarray):
        Y = mx.np.zeros(shape, dtype=X.dtype, ctx=X.ctx)
    else:
        Y = mx.nd.zeros(shape, dtype=X.dtype, ctx=X.context)
    for i in range(shape[0]):
        for j in range(shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def context_name(device: str) -> str:
    """How MXNet names the context of a grader device: 'cpu' -> 'cpu(0)', 'gpu1' -> 'gpu(1)',
    and the simulated GPU 'sim0' -> 'cpu(1)'."""
    if device == "cpu":
        return "cpu(0)"
    if device.startswith("sim"):
        return "cpu(1)"
    return f"gpu({device[3:] or 0})"


def context(device: str):
    """'cpu', 'gpuN' or 'sim0' -> an MXNet context. `mx.cpu(1)` is a context of its own that
    arrays keep, so it stands in for a GPU on a machine without one."""
    mx = _mxnet()
    if device == "cpu":
        return mx.cpu(0)
    if device.startswith("sim"):
        return mx.cpu(1)
    return mx.gpu(int(device[3:] or 0))


def on_device(array: onp.ndarray, ctx, api: str = "np"):
    """A float32 copy of array on ctx, as an array of the given API."""
    mx = _mxnet()
    module = mx.nd if api == "nd" else mx.np
    return module.array(array, dtype="float32", ctx=ctx)


def call_conv2d_block(block_class: Callable, inputs: dict, params: dict, ctx):
    mx = _mxnet()
    weight, bias = inputs["weight"], inputs["bias"]
    block = block_class(tuple(weight.shape))
    if not isinstance(block, mx.gluon.Block):
        raise WrongInterface(f"Conv2D(...) made a {type(block).__name__}, not an nn.Block")
    for name, value in (("weight", weight), ("bias", bias)):
        parameter = getattr(block, name, None)
        if not isinstance(parameter, mx.gluon.Parameter):
            raise WrongInterface(f"Conv2D has no parameter named '{name}' (self.{name})")
        if tuple(parameter.shape or ()) != tuple(value.shape):
            raise WrongInterface(
                f"Conv2D(kernel_size={tuple(weight.shape)}).{name} has shape "
                f"{tuple(parameter.shape or ())}; it should be {tuple(value.shape)}"
            )
    block.initialize(ctx=ctx)
    block.weight.set_data(weight)
    block.bias.set_data(bias)
    return block(inputs["X"])


def call_comp_conv2d(fn: Callable, inputs: dict, params: dict, ctx):
    mx = _mxnet()
    # Parameter-level initializers win over the one passed to initialize(), so the layer holds
    # the case's weights whatever initialize() call the student makes.
    layer = mx.gluon.nn.Conv2D(
        1,
        kernel_size=tuple(params["kernel_size"]),
        padding=tuple(params["padding"]),
        strides=tuple(params["strides"]),
        weight_initializer=mx.init.Constant(inputs["weight"].asnumpy()[None, None]),
        bias_initializer=mx.init.Constant(float(inputs["bias"].asnumpy()[0])),
    )
    return fn(layer, inputs["X"])


CALLERS = callers(call_conv2d_block, call_comp_conv2d)


def call_exercise(
    exercise: str,
    fn: Callable,
    inputs: dict[str, onp.ndarray],
    params: dict,
    device: str,
    api: str = "np",
) -> tuple[Any, dict[str, onp.ndarray], str | None]:
    """Run one case on one device, with inputs of the API the student's code is written in;
    return the raw result, the inputs as they are afterwards, and the result's context (None
    for what is not an MXNet array)."""
    mx = _mxnet()
    use_api(api)
    ctx = context(device)
    placed = {name: on_device(array, ctx, api) for name, array in inputs.items()}
    mx.random.seed(0, ctx="all")
    onp.random.seed(0)
    with ctx:
        value = CALLERS[exercise](fn, placed, params, ctx)
        if isinstance(value, mx.nd.NDArray):
            value.wait_to_read()
    after = {name: array.asnumpy() for name, array in placed.items()}
    return value, after, str(value.ctx) if isinstance(value, mx.nd.NDArray) else None


def plain_result(value: Any) -> tuple[str, onp.ndarray | None]:
    """(type name, the value as a plain numpy array or None); its context is call_exercise's."""
    mx = _mxnet()
    if isinstance(value, mx.nd.NDArray):  # mxnet.np.ndarray is a subclass
        return type_name(value), value.asnumpy()
    return type_name(value), plain_numbers(value)
