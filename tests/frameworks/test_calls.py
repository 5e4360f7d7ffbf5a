"""The framework-free part of calling an exercise: argument order, and plain values read."""

import numpy as np

from grader.frameworks import mxnet, pytorch
from grader.frameworks.calls import callers, plain_numbers, type_name


def test_every_exercise_is_called_and_each_framework_builds_its_own_layers():
    recorded = []
    table = callers(lambda *a: "block", lambda *a: "layer")
    shape = table["conv_output_shape"](
        lambda *args, **kwargs: recorded.append((args, kwargs)),
        {},
        {"input_shape": [8, 8], "kernel_size": [3, 3], "padding": [1, 1], "strides": [2, 2]},
        None,
    )
    assert shape is None
    assert recorded == [(((8, 8), (3, 3)), {"padding": (1, 1), "strides": (2, 2)})]
    assert table["Conv2D"](None, {}, {}, None) == "block"
    assert table["corr2d_multi_in"](lambda X, K: X + K, {"X": 1, "K": 2}, {}, None) == 3
    assert set(mxnet.CALLERS) == set(pytorch.CALLERS) == set(table)
    assert mxnet.WrongInterface is pytorch.WrongInterface


def test_plain_values_are_numbers_or_nothing():
    assert plain_numbers([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert plain_numbers((2, 3)).dtype.kind == "i"
    assert plain_numbers("text") is None and plain_numbers([object()]) is None
    assert plain_numbers(np.float32(2.5)).tolist() == [2.5]
    assert type_name([]) == "builtins.list" and type_name(np.zeros(1)) == "numpy.ndarray"
