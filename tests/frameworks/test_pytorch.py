"""The PyTorch edition's side of the boundary, called in this process as the worker calls it."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from grader.frameworks import pytorch  # noqa: E402

X = np.arange(9, dtype=np.float32).reshape(3, 3)
K = np.array([[0, 1], [2, 3]], dtype=np.float32)
CORR2D = [[19.0, 25.0], [37.0, 43.0]]


def corr2d(X, K, make=lambda shape, X: torch.zeros(shape, device=X.device)):
    h, w = K.shape
    Y = make((X.shape[0] - h + 1, X.shape[1] - w + 1), X)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def run(fn, exercise="corr2d", device="cpu", inputs=None, params=None):
    return pytorch.call_exercise(exercise, fn, inputs or {"X": X, "K": K}, params or {}, device)


def test_a_case_runs_on_float32_tensors_and_reports_the_device():
    value, after, where = run(corr2d)
    assert isinstance(value, torch.Tensor) and value.tolist() == CORR2D
    assert where == "cpu" and after["X"].tolist() == X.tolist()


@pytest.mark.parametrize(
    "make, where",
    [
        (lambda shape, X: torch.zeros(shape, device=X.device), pytorch.SIMULATED_DEVICE_NAME),
        (lambda shape, X: torch.zeros(shape), pytorch.SIMULATED_DEVICE_NAME),  # the device scope
        (lambda shape, X: torch.zeros_like(X)[: shape[0], : shape[1]], "cuda:0 (simulated)"),
        (lambda shape, X: torch.zeros(shape, device="cpu"), "cpu"),
        (lambda shape, X: torch.from_numpy(np.zeros(shape, np.float32)), "cpu"),
        (lambda shape, X: torch.zeros(shape).cpu(), "cpu"),
        (lambda shape, X: torch.zeros(shape, device="cpu").to(X.device), "cuda:0 (simulated)"),
    ],
)
def test_the_simulated_gpu_follows_tensors_the_way_cuda_does(make, where):
    value, _, found = run(lambda X, K: corr2d(X, K, make), device="sim0")
    assert found == where and value.tolist() == CORR2D


def test_on_the_simulated_gpu_mixing_devices_raises_as_on_a_real_one():
    def mixes(X, K):
        return torch.zeros(X.shape, device="cpu") + X

    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        run(mixes, device="sim0")
    _, _, where = run(lambda X, K: X.numpy().sum() * torch.ones(2), device="sim0")
    assert where == pytorch.SIMULATED_DEVICE_NAME  # made with no tensor input: on the device


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


def conv2d_inputs():
    return {"X": X, "weight": K, "bias": np.array([1.0], np.float32)}


@pytest.mark.parametrize("device", ["cpu", "sim0"])
def test_conv2d_blocks_get_the_case_parameters_on_the_device(device):
    value, _, where = run(Conv2D, "Conv2D", device, conv2d_inputs())
    assert (value.detach() - 1).tolist() == CORR2D
    assert where == pytorch.context_name(device)


def test_a_conv2d_block_that_is_no_module_or_lacks_a_parameter_is_named():
    class Plain:
        def __init__(self, kernel_size):
            pass

    with pytest.raises(pytorch.WrongInterface, match="made a Plain, not an nn.Module"):
        run(Plain, "Conv2D", inputs=conv2d_inputs())

    class ScalarBias(Conv2D):
        def __init__(self, kernel_size):
            super().__init__(kernel_size)
            self.bias = nn.Parameter(torch.zeros(()))

    with pytest.raises(pytorch.WrongInterface, match=r"bias has shape \(\); it should be \(1,\)"):
        run(ScalarBias, "Conv2D", inputs=conv2d_inputs())

    class NoSuperInit(nn.Module):
        def __init__(self, kernel_size):
            self.weight = nn.Parameter(torch.rand(kernel_size))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        run(NoSuperInit, "Conv2D", inputs=conv2d_inputs())


def test_comp_conv2d_gets_a_layer_holding_the_case_weights():
    def comp_conv2d(conv2d, X):
        return conv2d(X.reshape((1, 1) + X.shape)).reshape(X.shape)

    inputs = {"X": X, "weight": np.ones((3, 3), np.float32), "bias": np.zeros(1, np.float32)}
    params = {"kernel_size": [3, 3], "padding": [1, 1], "strides": [1, 1]}
    value, _, where = run(comp_conv2d, "comp_conv2d", "sim0", inputs, params)
    assert value[1, 1].item() == X.sum() and where == pytorch.SIMULATED_DEVICE_NAME


def test_plain_results_read_tensors_that_require_grad_and_anything_array_like():
    weight = nn.Parameter(torch.ones(2, 2))
    type_name, array = pytorch.plain_result(weight * 2)
    assert (type_name, array.tolist()) == ("torch.Tensor", [[2, 2], [2, 2]])
    assert pytorch.plain_result(weight)[0] == "torch.nn.parameter.Parameter"
    assert pytorch.plain_result(torch.Size([4, 5]))[1].tolist() == [4, 5]
    assert pytorch.plain_result(torch.ones(2, dtype=torch.bfloat16))[1].dtype == np.float32
    assert pytorch.plain_result("text")[1] is None


def test_cuda_is_closed_in_processes_that_fork_and_reopened_in_exercise_processes():
    pytorch.keep_gpu_closed()
    try:
        assert not torch.cuda.is_available() and torch.cuda.device_count() == 0
        with pytest.raises(RuntimeError, match="not available while the submission's top-level"):
            torch.zeros(1, device="cuda")  # through C++, which calls torch.cuda._lazy_init
    finally:
        pytorch.open_gpu()
    with pytest.raises((AssertionError, RuntimeError)) as raised:
        torch.zeros(1, device="cuda")
    assert "top-level" not in str(raised.value)  # PyTorch's own answer again


def test_no_driver_means_no_gpu_without_importing_anything():
    assert pytorch.gpu_count() == 0 and pytorch.context_name("gpu1") == "cuda:1"


def test_on_the_simulated_gpu_parameters_and_lazy_modules_made_in_a_test_are_on_it():
    new, materialize = nn.Parameter.__new__, nn.parameter.UninitializedTensorMixin.materialize

    def learn(X, Y, kernel_size, lr, num_epochs):
        conv2d = nn.LazyConv2d(1, kernel_size=kernel_size, bias=False)
        X, Y = X.reshape((1, 1) + X.shape), Y.reshape((1, 1) + Y.shape)
        extra = nn.Parameter(torch.zeros(1))
        for _ in range(num_epochs):
            loss = ((conv2d(X) + extra - Y) ** 2).sum()
            conv2d.zero_grad()
            loss.backward()
            conv2d.weight.data[:] -= lr * conv2d.weight.grad
        return conv2d.weight.data.reshape(kernel_size)

    inputs = {"X": X, "Y": X[:, :2]}
    params = {"kernel_size": [1, 2], "lr": 0.001, "num_epochs": 2}
    value, _, where = run(learn, "learn_kernel", "sim0", inputs, params)
    assert where == pytorch.SIMULATED_DEVICE_NAME and tuple(value.shape) == (1, 2)
    # Both are PyTorch's own again after the test's scope.
    assert nn.Parameter.__new__ is new
    assert nn.parameter.UninitializedTensorMixin.materialize is materialize


def test_the_reference_solution_learns_the_public_kernel_from_any_seed():
    """PyTorch's nn.Conv2d starts far from 0: the public case's epochs are enough for the
    book's training loop whatever the random start (the grader seeds 0; a GPU draws from
    another stream)."""
    from grader.cases import EXERCISES

    (case,) = EXERCISES["learn_kernel"].public_cases(pytorch.initial_weight_bound)
    X = torch.tensor(case.inputs["X"]).reshape(1, 1, 6, 8)
    Y = torch.tensor(case.inputs["Y"]).reshape(1, 1, 6, 7)
    worst = 0.0
    for seed in range(100):
        torch.manual_seed(seed)
        conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
        for _ in range(case.params["num_epochs"]):
            loss = ((conv2d(X) - Y) ** 2).sum()
            conv2d.zero_grad()
            loss.backward()
            conv2d.weight.data[:] -= case.params["lr"] * conv2d.weight.grad
        error = (conv2d.weight.data.reshape(1, 2) - torch.tensor(case.reference["kernel"])).abs()
        worst = max(worst, float(error.max()))
    assert worst <= 0.025
