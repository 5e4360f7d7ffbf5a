"""Everything PyTorch-specific (the book's PyTorch edition), in one place.

Trusted side: `gpu_count` says which GPUs exist, asking NVML, so no CUDA context is made.
Student side (the worker): `call_exercise` places float32 tensors (float64 where the submission
made that the default) on a device, calls the student's name inside `with torch.device(...)`
(PyTorch's counterpart of MXNet's `with ctx:`, so `torch.zeros(shape)` lands on the test's
device as it does in MXNet) and says which device the result is on, and `plain_result` turns
whatever came back into plain numpy.

CUDA and fork: a process that has initialized CUDA cannot hand it to a fork. `keep_gpu_closed`
makes the processes that fork later (a batch zygote, a loaded submission) unable to initialize
it whatever the student's top-level code does; each exercise's process reopens it and makes its
own CUDA context. `SimulatedDevice` stands in for a GPU on a machine without one.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as onp

from grader.frameworks.calls import WrongInterface, callers, plain_numbers, type_name

FRAMEWORK = "pytorch"
ARRAY_TYPES = {"torch": "torch.Tensor"}
ARRAY_DESCRIPTIONS = {
    "torch.Tensor": "a torch.Tensor",
    "torch.nn.parameter.Parameter": "an nn.Parameter",
}
ACCEPTED_ARRAY_TYPES = ("torch.Tensor", "torch.nn.parameter.Parameter")
SHAPE_TYPES = ("builtins.tuple", "torch.Size")
ARRAY_DESCRIPTION = "a torch.Tensor"
SAME_DEVICE_HINT = (
    "create new tensors on the input's device (for example torch.zeros(shape, device=X.device)) "
    "and keep them there: no .cpu(), .numpy() or torch.from_numpy on the way"
)
SIMULATED_DEVICE_NAME = "cuda:0 (simulated)"
NO_GPU_WHILE_LOADING = (
    "CUDA is not available while the submission's top-level code runs (it runs once, before "
    "any test chooses a device); use the GPU inside the graded functions"
)


def _torch():
    # device_count() and is_available() ask NVML instead of initializing CUDA.
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch

    return torch


def load() -> None:
    """Import PyTorch, once, before any student code (the worker's start)."""
    _torch()


class PyTorchUnavailable(OSError):
    """PyTorch is not installed where the grader runs."""


def check_installed() -> None:
    """In the grader, before grading, without importing torch (the worker does that)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise PyTorchUnavailable(
            "PyTorch is not installed (framework: pytorch): make setup PYTORCH=yes, or "
            "pip install -r requirements-pytorch.txt"
        )


def use_api(api: str) -> None:
    """PyTorch has one tensor API; nothing to switch."""


def initial_weight_bound(kernel_shape: tuple[int, ...]) -> float:
    """nn.Conv2d's default initializer (Kaiming uniform with a = sqrt(5)): each weight
    Uniform(-b, b) with b = 1 / sqrt(fan_in), fan_in = k_h * k_w for one input channel."""
    return 1 / math.sqrt(math.prod(kernel_shape))


def gpu_count() -> int:
    """GPUs PyTorch can use here; 0 with the CPU build or without NVIDIA's driver."""
    if not Path("/dev/nvidiactl").exists():
        return 0  # no driver: not worth importing torch to hear it
    try:
        return int(_torch().cuda.device_count())
    except Exception:
        return 0


def context_name(device: str) -> str:
    """How PyTorch names a grader device: 'cpu' -> 'cpu', 'gpu1' -> 'cuda:1'."""
    if device == "cpu":
        return "cpu"
    if device.startswith("sim"):
        return SIMULATED_DEVICE_NAME
    return f"cuda:{device[3:] or 0}"


# -- CUDA in processes that fork -----------------------------------------------------------------

# torch.cuda's own functions while this process keeps CUDA closed: one worker process's state,
# set before any student code runs and given back in the exercise process it forks.
_OPEN_GPU: dict[str, Any] = {}


def keep_gpu_closed() -> None:
    """In a process that forks later: CUDA cannot be initialized here (PyTorch initializes it
    through torch.cuda._lazy_init, from Python and C++ alike), and the student's code sees no
    GPU (`d2l.try_gpu()` gives the CPU)."""
    cuda = _torch().cuda
    if _OPEN_GPU:
        return
    _OPEN_GPU.update(
        _lazy_init=cuda._lazy_init, is_available=cuda.is_available, device_count=cuda.device_count
    )

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(NO_GPU_WHILE_LOADING)

    cuda._lazy_init, cuda.is_available, cuda.device_count = refuse, lambda: False, lambda: 0


def open_gpu() -> None:
    """In an exercise's own process (a fork that never forks again): CUDA as PyTorch has it."""
    cuda = _torch().cuda
    for name, value in _OPEN_GPU.items():
        setattr(cuda, name, value)
    _OPEN_GPU.clear()


# -- a GPU simulated on the CPU -----------------------------------------------------------------


def simulated_device_mode():
    """A TorchFunctionMode that makes chosen CPU tensors behave as if on a GPU of their own.

    PyTorch has no second CPU device (`cpu:1` is the CPU), so the device is a tag: tensors the
    grader places carry it, tensors computed from tagged tensors carry it, tensors made with no
    tensor input carry it (as under `with torch.device("cuda")`), `.to(X.device)` keeps it, and
    `.cpu()`, `device="cpu"` and `torch.from_numpy` drop it. Mixing a tagged tensor with an
    untagged one (not a scalar) raises as PyTorch does across devices. `X.device` of a tagged
    tensor reads `cpu:1`, which factories accept, so `torch.zeros(s, device=X.device)` works.
    """
    torch = _torch()
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_flatten
    from torch.utils.weak import WeakTensorKeyDictionary

    simulated = torch.device("cpu", 1)
    device_getter, data_attribute = torch._C.TensorBase.device, torch._C.TensorBase.data
    crosses_devices = {"copy_", "__setitem__", "to", "cpu", "numpy", "item", "tolist"}
    always_on_cpu = {"from_numpy", "frombuffer"}

    def tensors(value: Any) -> list:
        return [v for v in tree_flatten(value)[0] if isinstance(v, torch.Tensor)]

    class SimulatedDevice(TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.tagged = WeakTensorKeyDictionary()
            self.device = simulated

        def place(self, tensor):
            self.tagged[tensor] = True
            return tensor

        def holds(self, tensor) -> bool:
            return tensor in self.tagged

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name, owner = getattr(func, "__name__", ""), getattr(func, "__self__", None)
            if name == "__get__" and owner is device_getter:
                return simulated if args[0] in self.tagged else func(*args, **kwargs)
            if name == "__set__" and owner is data_attribute:  # param.data = moved (Module.to)
                out = func(*args, **kwargs)
                self.tag(args[0], args[1] in self.tagged)
                return out
            inputs = tensors((args, kwargs))
            target = self.target(name, args, kwargs)
            if target is None and name in always_on_cpu:
                target = "cpu"
            if "device" in kwargs and target is not None:
                kwargs = {**kwargs, "device": "cpu"}
            if target is None and not name.startswith("_") and name not in crosses_devices:
                self.refuse_mixed(inputs)
            out = func(*args, **kwargs)
            if target is not None and any(out is t for t in inputs):
                out = out.view_as(out)  # a move to where it is returns the tensor itself
            on_device = (
                torch.device(target) == simulated
                if target is not None
                else any(t in self.tagged for t in inputs) or not inputs
            )
            for tensor in tensors(out):
                self.tag(tensor, on_device)
            return out

        def target(self, name: str, args: tuple, kwargs: dict):
            """The device a call moves or creates its result on, if it names one."""
            if name == "cpu":
                return "cpu"
            target = kwargs.get("device")
            if name == "to":
                for arg in args[1:]:
                    if isinstance(arg, (str, torch.device)):
                        target = arg
                    elif isinstance(arg, torch.Tensor):
                        target = simulated if arg in self.tagged else arg.device
            return target

        def tag(self, tensor, on_device: bool) -> None:
            if on_device:
                self.tagged[tensor] = True
            else:
                self.tagged.pop(tensor, None)

        def refuse_mixed(self, inputs: list) -> None:
            if any(t in self.tagged for t in inputs):
                if any(t not in self.tagged and t.dim() > 0 for t in inputs):
                    raise RuntimeError(
                        "Expected all tensors to be on the same device, but found at least "
                        f"two devices, {SIMULATED_DEVICE_NAME} and cpu!"
                    )

    return SimulatedDevice()


# -- the student side ----------------------------------------------------------------------------


class Placement:
    """Where one call's tensors go: a real device, or the simulated one."""

    def __init__(self, device: str) -> None:
        self.torch = _torch()
        self.simulation = simulated_device_mode() if device.startswith("sim") else None
        if self.simulation is not None:
            self.device = self.simulation.device
        elif device == "cpu":
            self.device = self.torch.device("cpu")
        else:
            self.device = self.torch.device("cuda", int(device[3:] or 0))

    def tensor(self, array: onp.ndarray):
        tensor = self.torch.tensor(array, dtype=self.dtype(), device=self.device)
        return self.simulation.place(tensor) if self.simulation else tensor

    def dtype(self):
        """float32, or float64 where the submission made that the default (as its own
        `torch.ones(...)` would then be, and the layers it builds)."""
        torch = self.torch
        return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        with self.torch.device(self.device):
            if self.simulation is None:
                yield
            else:
                with self.simulation, self.parameters_follow_their_data():
                    yield

    @contextlib.contextmanager
    def parameters_follow_their_data(self) -> Iterator[None]:
        """nn.Parameter wraps its data in C++, past the TorchFunctionMode: tag it as its data
        is, and let a lazy module's parameters materialize where the scope puts new tensors."""
        parameter = self.torch.nn.Parameter
        lazy = self.torch.nn.parameter.UninitializedTensorMixin
        new, materialize, simulation = parameter.__new__, lazy.materialize, self.simulation

        def tagged_new(cls, data=None, requires_grad=True):
            made = new(cls, data, requires_grad)
            if data is not None and simulation.holds(data):
                simulation.place(made)
            return made

        def materialize_here(self_, shape, device=None, dtype=None):
            materialize(self_, shape, device=device or simulation.device, dtype=dtype)
            simulation.place(self_)

        parameter.__new__, lazy.materialize = tagged_new, materialize_here
        try:
            yield
        finally:
            parameter.__new__, lazy.materialize = new, materialize

    def device_of(self, value: Any) -> str | None:
        if not isinstance(value, self.torch.Tensor):
            return None
        if self.simulation is not None and self.simulation.holds(value):
            return SIMULATED_DEVICE_NAME
        return str(value.device)


def call_conv2d_block(block_class: Callable, inputs: dict, params: dict, placement: Placement):
    torch = placement.torch
    weight, bias = inputs["weight"], inputs["bias"]
    block = block_class(tuple(weight.shape))
    if not isinstance(block, torch.nn.Module):
        raise WrongInterface(f"Conv2D(...) made a {type(block).__name__}, not an nn.Module")
    block.to(placement.device)
    for name, value in (("weight", weight), ("bias", bias)):
        parameter = getattr(block, name, None)
        if not isinstance(parameter, torch.Tensor):
            raise WrongInterface(
                f"Conv2D has no parameter named '{name}' (self.{name} = nn.Parameter(...))"
            )
        if tuple(parameter.shape) != tuple(value.shape):
            raise WrongInterface(
                f"Conv2D(kernel_size={tuple(weight.shape)}).{name} has shape "
                f"{tuple(parameter.shape)}; it should be {tuple(value.shape)}"
            )
        with torch.no_grad():
            parameter.copy_(value)
    return block(inputs["X"])


def call_comp_conv2d(fn: Callable, inputs: dict, params: dict, placement: Placement):
    torch = placement.torch
    layer = torch.nn.Conv2d(
        1,
        1,
        kernel_size=tuple(params["kernel_size"]),
        padding=tuple(params["padding"]),
        stride=tuple(params["strides"]),
        dtype=inputs["X"].dtype,
    )
    layer.to(placement.device)
    with torch.no_grad():
        layer.weight.copy_(inputs["weight"][None, None])
        layer.bias.copy_(inputs["bias"])
    return fn(layer, inputs["X"])


CALLERS = callers(call_conv2d_block, call_comp_conv2d)


def call_exercise(
    exercise: str,
    fn: Callable,
    inputs: dict[str, onp.ndarray],
    params: dict,
    device: str,
    api: str = "torch",
) -> tuple[Any, dict[str, onp.ndarray], str | None]:
    """Run one case on one device; return the raw result, the inputs as they are afterwards,
    and the device the result is on (None for what is not a tensor)."""
    torch = _torch()
    placement = Placement(device)
    placed = {name: placement.tensor(array) for name, array in inputs.items()}
    torch.manual_seed(0)
    onp.random.seed(0)
    with placement.scope():
        value = CALLERS[exercise](fn, placed, params, placement)
        where = placement.device_of(value)
    if placement.device.type == "cuda":
        torch.cuda.synchronize(placement.device)
    after = {name: tensor.detach().cpu().numpy() for name, tensor in placed.items()}
    return value, after, where


def plain_result(value: Any) -> tuple[str, onp.ndarray | None]:
    """(type name, the value as a plain numpy array or None); its device is call_exercise's
    (which knows the simulated GPU's tags)."""
    torch = _torch()
    if isinstance(value, torch.Tensor):
        try:
            array = value.detach().resolve_conj().resolve_neg().cpu()
            if array.dtype in (torch.bfloat16, torch.float16):
                array = array.float()
            return type_name(value), onp.ascontiguousarray(array.numpy())
        except Exception:  # a meta, sparse or otherwise unreadable tensor
            return type_name(value), None
    return type_name(value), plain_numbers(value)
