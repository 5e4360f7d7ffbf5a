"""What calling an exercise is, whatever the framework: the parts of each framework module's
`call_exercise` and `plain_result` that touch no framework."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp


class WrongInterface(Exception):
    """The student's name exists but cannot be used as the exercise says; the message says why."""


def call_array_function(fn: Callable, inputs: dict, params: dict, device: Any):
    return fn(inputs["X"], inputs["K"])


def call_learn_kernel(fn: Callable, inputs: dict, params: dict, device: Any):
    return fn(
        inputs["X"],
        inputs["Y"],
        tuple(params["kernel_size"]),
        lr=params["lr"],
        num_epochs=params["num_epochs"],
    )


def call_conv_output_shape(fn: Callable, inputs: dict, params: dict, device: Any):
    return fn(
        tuple(params["input_shape"]),
        tuple(params["kernel_size"]),
        padding=tuple(params["padding"]),
        strides=tuple(params["strides"]),
    )


def callers(conv2d_block: Callable, comp_conv2d: Callable) -> dict[str, Callable]:
    """How each exercise is called, given the framework's two that build a layer."""
    return {
        "corr2d": call_array_function,
        "Conv2D": conv2d_block,
        "learn_kernel": call_learn_kernel,
        "comp_conv2d": comp_conv2d,
        "conv_output_shape": call_conv_output_shape,
        "corr2d_multi_in": call_array_function,
        "corr2d_multi_in_out": call_array_function,
        "corr2d_multi_in_out_1x1": call_array_function,
    }


def type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"[:120]


def plain_numbers(value: Any) -> onp.ndarray | None:
    """A value that is not the framework's array (a list, a tuple, a NumPy array) as numbers,
    or None if it holds none."""
    try:
        array = onp.asarray(value)
    except Exception:
        return None
    if array.dtype == object or not (
        onp.issubdtype(array.dtype, onp.number) or array.dtype == bool
    ):
        return None
    return onp.ascontiguousarray(array)
