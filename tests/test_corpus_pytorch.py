"""The book's PyTorch edition: student code in the forms students submit, graded as submitted.

`tests/corpus/pytorch/` holds answers in each style: the book's own code as a notebook with
`from d2l import torch as d2l` (`d2l.corr2d` in the channel exercises, `nn.LazyConv2d`), a loop
over the kernel accumulating shifted slices in place (`+=`) with `torch.optim.SGD`, NumPy doing
the arithmetic (`.numpy()` in, `torch.from_numpy` or a NumPy array out), windows stacked with
`torch.stack`, `unfold` and a hand-written training loop on a kernel that requires grad (and is
returned as it is), and an `nn.Module` that never calls `super().__init__()`. Each scores full
marks on what it defines (the last loses `Conv2D` only, with PyTorch's own reason); each
realistic bug, one per exercise, loses points only where it belongs, with its diagnosis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import (
    ALL_NAMES,
    EXERCISES,
    SOLUTIONS,
    full_marks,
    grade_pooled,
    scores,
    small_config_data,
    with_change,
)
from test_corpus import CELL_MARK, as_notebook

from grader.cases import public_case_counts
from grader.config import parse_config
from grader.grading import grade

CORPUS = Path(__file__).parent / "corpus" / "pytorch"
CHANNELS = {"corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1"}
NOTEBOOKS = {"book_notebook.py"}  # its cells, split by `# In[ ]:` lines
NUMPY_NOTE = "note: returned a NumPy array, not a torch.Tensor; graded it by value"

# file -> what it defines
STYLES = {
    "book_notebook.py": ALL_NAMES,
    "shifted_slices.py": {"corr2d", "Conv2D", "learn_kernel", "corr2d_multi_in"},
    "numpy_round_trip.py": {"corr2d", "Conv2D", "conv_output_shape", "corr2d_multi_in_out_1x1"},
    "stacked_windows.py": {"corr2d"} | CHANNELS,
    "requires_grad_training.py": {"corr2d", "learn_kernel", "comp_conv2d"},
    "double_precision.py": {"corr2d", "Conv2D", "learn_kernel", "comp_conv2d"},
}

# (file, exercises that lose points, old snippet, new snippet, the diagnosis): one per exercise
BUGS = [
    (
        "double_precision.py",
        {"learn_kernel"},
        "return conv2d.weight.detach().reshape(kernel_size)",
        "return conv2d.weight.detach()",
        "its output and input channels first: return it reshaped to kernel_size",
    ),
    (
        "double_precision.py",
        {"comp_conv2d"},
        "return out.squeeze(0).squeeze(0)",
        "return out.squeeze()",
        "squeeze() removes every dimension of size 1; drop only the first two",
    ),
    (
        "shifted_slices.py",
        {"corr2d", "Conv2D", "corr2d_multi_in"},
        "out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1",
        "out_h, out_w = X.shape[0] - h, X.shape[1] - w + 1",
        "your output has n_h - k_h rows",
    ),
    (
        "numpy_round_trip.py",
        {"corr2d", "Conv2D"},
        "np.sum(x[i:i + h, j:j + w] * k)",
        "np.sum(x[i:i + h, j:j + w] * np.flip(k))",
        "the kernel is flipped",
    ),
    (
        "shifted_slices.py",
        {"Conv2D"},
        "return corr2d(x, self.weight) + self.bias",
        "return corr2d(x, self.weight)",
        "the bias is missing",
    ),
    (
        "book_notebook.py",
        {"learn_kernel"},
        "conv2d.weight.data[:] -= lr * conv2d.weight.grad",
        "conv2d.weight.data[:] += lr * conv2d.weight.grad",
        "the loss rose",
    ),
    (
        "requires_grad_training.py",
        {"comp_conv2d"},
        "return Y[0, 0]",
        "return Y",
        "the batch and channel dimensions are still there",
    ),
    (
        "numpy_round_trip.py",
        {"conv_output_shape"},
        "return (math.floor((n_h - k_h + 2 * p_h) / s_h) + 1,\n"
        "            math.floor((n_w - k_w + 2 * p_w) / s_w) + 1)",
        "return (math.ceil((n_h - k_h + 2 * p_h) / s_h) + 1,\n"
        "            math.ceil((n_w - k_w + 2 * p_w) / s_w) + 1)",
        "the division rounds up",
    ),
    (
        "stacked_windows.py",
        {"corr2d_multi_in", "corr2d_multi_in_out"},
        "for x, k in zip(X, K)]).sum(dim=0)",
        "for x, k in zip(X, K)]).mean(dim=0)",
        "the input channels are averaged",
    ),
    (
        "stacked_windows.py",
        {"corr2d_multi_in_out"},
        "torch.stack([corr2d_multi_in(X, k) for k in K], dim=0)",
        "torch.stack([corr2d_multi_in(X, k) for k in K], dim=-1)",
        "stack them on axis 0",
    ),
    (
        "stacked_windows.py",
        {"corr2d_multi_in_out_1x1"},
        "torch.mm(K.view(c_o, c_i), X.view(c_i, h * w))",
        "torch.mm(K.view(c_i, c_o), X.view(c_i, h * w))",
        "works only when both are equal",
    ),
]


def config():
    """The PyTorch edition (`framework: pytorch`) with few hidden cases, time for top-level
    demos that train, and the course's own time per test: the first torch.optim optimizer a
    process makes imports torch._dynamo, about 3 s on a busy 2-core machine."""
    data = small_config_data(load_seconds=60)
    data["framework"] = "pytorch"
    data["defaults"]["time_limit_seconds"] = 10
    return parse_config(data, "test config", public_case_counts())


def grade_on_simulated_gpu(path: Path):
    """Every case on the CPU and on the simulated GPU, in the strict sandbox."""
    return grade(path, config(), device="simulated", isolation="strict")


def submitted(name: str, folder: Path, text: str | None = None) -> Path:
    """The corpus file as a student hands it in, optionally with a change."""
    source = CORPUS / name
    text = source.read_text() if text is None else text
    if name in NOTEBOOKS:
        assert CELL_MARK.search(text)
        return as_notebook(text, folder / f"{source.stem}.ipynb")
    path = folder / name
    path.write_text(text)
    return path


def messages(report, names: set[str], status: str | None = None) -> list[str]:
    """The messages of the tests of these exercises that failed (or have the given status)."""
    return [
        t.message
        for e in report.exercises
        if e.name in names
        for t in e.tests
        if (t.status == status if status else t.status != "passed")
    ]


def assert_full_marks_on(report, defined: set[str]) -> None:
    assert {e.name for e in report.exercises if e.defined_at} == defined
    assert full_marks(report) == defined, scores(report)


def test_the_solutions_score_full_marks_and_the_stubs_zero():
    solved = grade_pooled(SOLUTIONS / "pytorch", config())
    assert_full_marks_on(solved, ALL_NAMES)
    assert not [n for n in solved.notes if n.startswith("error while loading")], solved.notes
    stubs = grade_pooled(EXERCISES / "pytorch", config())
    assert {e.name for e in stubs.exercises if e.score > 0} == set(), scores(stubs)
    assert all("NotImplementedError" in m for m in messages(stubs, ALL_NAMES)[:20])


@pytest.mark.parametrize("name", sorted(STYLES))
def test_each_style_scores_full_marks_on_what_it_defines(tmp_path, name):
    report = grade_pooled(submitted(name, tmp_path), config())
    assert_full_marks_on(report, STYLES[name])
    assert not [n for n in report.notes if n.startswith("error while loading")], report.notes
    if name == "numpy_round_trip.py":  # the 1x1 convolution returns what NumPy computed
        noted = messages(report, {"corr2d_multi_in_out_1x1"}, status="passed")
        assert noted and all(NUMPY_NOTE in m for m in noted), noted[:1]


def test_a_module_that_skips_super_init_loses_only_conv2d_and_says_why(tmp_path):
    report = grade_pooled(submitted("no_super_init.py", tmp_path), config())
    assert {e.name for e in report.exercises if e.defined_at} == {"corr2d", "Conv2D", "comp_conv2d"}
    assert full_marks(report) == {"corr2d", "comp_conv2d"}, scores(report)
    assert scores(report)["Conv2D"][0] == 0
    failed = messages(report, {"Conv2D"})
    assert failed and all("before Module.__init__() call" in m for m in failed), failed[:1]
    assert all("must call super().__init__()" in m for m in failed), failed[:1]
    # the student's own `Conv2D((1, 2))` at the top level raised too; the rest still ran
    assert any("error while loading" in n and "no_super_init.py" in n for n in report.notes)


@pytest.mark.parametrize(
    "name, losers, old, new, diagnosis", BUGS, ids=[f"{b[0]}:{b[4]}" for b in BUGS]
)
def test_a_bug_costs_points_only_where_it_belongs(tmp_path, name, losers, old, new, diagnosis):
    text = with_change((CORPUS / name).read_text(), old, new)
    report = grade_pooled(submitted(name, tmp_path, text), config())
    assert full_marks(report) == STYLES[name] - losers, scores(report)
    failed = messages(report, losers)
    assert any(diagnosis in m for m in failed), failed[:2]


def test_on_the_simulated_gpu_the_books_device_free_code_keeps_full_marks(tmp_path):
    """d2l.zeros(shape) and nn.LazyConv2d name no device: on a GPU they land on the one each
    test runs on, as under `with torch.device("cuda")`, and so must they on the simulated one."""
    report = grade_on_simulated_gpu(submitted("book_notebook.py", tmp_path))
    assert {t.name for e in report.exercises for t in e.tests if "simulated" in t.name}
    assert_full_marks_on(report, ALL_NAMES)


def test_on_the_simulated_gpu_numpy_round_trips_work_on_the_cpu_only(tmp_path):
    report = grade_on_simulated_gpu(submitted("numpy_round_trip.py", tmp_path))
    assert full_marks(report) == {"conv_output_shape"}, scores(report)
    for exercise in report.exercises:
        if exercise.name in {"corr2d", "Conv2D", "corr2d_multi_in_out_1x1"}:
            on_gpu = [t for t in exercise.tests if "simulated" in t.name]
            on_cpu = [t for t in exercise.tests if t not in on_gpu]
            assert on_gpu and all(t.status == "passed" for t in on_cpu), exercise.name
            assert all("works on the CPU only" in t.message for t in on_gpu), on_gpu[0].message
