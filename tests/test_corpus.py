"""Student code in every form the book's code has had, graded as students submit it.

`tests/corpus/` holds complete answers in each style: the first edition's nd API, d2lzh and
gluonbook, the flat `import d2l` of 2019 on nd and on np arrays, d2l 1.0's notebooks with
plots and timers, `%matplotlib` lines copied into a .py, tabs and CRLF line endings, prints in
functions and `+=` accumulation, and code exported by `jupyter nbconvert`. Files split by
`# In[ ]:` lines are submitted as the notebooks they were copied from. Each scores full marks on
what it defines; each realistic bug loses points only where it belongs, with its diagnosis.
The project's four source texts are graded as a student typing them would have them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ALL_NAMES, full_marks, grade_pooled, scores, small_config, with_change
from seeds import seed_text, student_cells

CORPUS = Path(__file__).parent / "corpus"
CHANNELS = {"corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1"}
LAYER = {"corr2d", "Conv2D"}
CELL_MARK = re.compile(r"^# In\[ ?\d* ?\]:\n", re.M)
NOTEBOOKS = {"d2lzh_notebook.py", "d2l_1_0_notebook.py"}  # their cells, split by CELL_MARK

# file -> (what it defines, the API of its definitions)
STYLES = {
    "nd_first_edition.py": (ALL_NAMES, "nd"),
    "d2lzh_notebook.py": (ALL_NAMES - {"learn_kernel", "conv_output_shape"}, "nd"),
    "gluonbook_2018.py": ({"corr2d", "corr2d_multi_in", "corr2d_multi_in_out"}, "nd"),
    "flat_d2l_2019_nd.py": (CHANNELS, "nd"),
    "flat_d2l_2019_np.py": (CHANNELS, "np"),
    "d2l_1_0_notebook.py": (ALL_NAMES, "np"),
    "copied_cells.py": ({"corr2d"}, "np"),
    "nbconvert_export.py": ({"comp_conv2d", "conv_output_shape"}, "np"),
    "tabs_crlf.py": (LAYER, "np"),
    "prints_and_accumulation.py": ({"corr2d", "corr2d_multi_in", "corr2d_multi_in_out"}, "np"),
}

# (file, exercises that lose points, old snippet, new snippet, the diagnosis)
BUGS = [
    (
        "d2l_1_0_notebook.py",
        {"learn_kernel"},
        "    return d2l.reshape(conv2d.weight.data(), kernel_size)",
        "    return conv2d.weight.data()",
        "its output and input channels first: return it reshaped to kernel_size",
    ),
    (
        "nd_first_edition.py",
        LAYER | {"corr2d_multi_in", "corr2d_multi_in_out"},
        "(X[i: i + h, j: j + w] * K).sum()",
        "(X[i: i + h, j: j + w] * nd.flip(nd.flip(K, axis=0), axis=1)).sum()",
        "the kernel is flipped",
    ),
    (
        "nd_first_edition.py",
        {"learn_kernel"},
        "conv2d.weight.data()[:] -= lr * conv2d.weight.grad()",
        "conv2d.weight.data()[:] += lr * conv2d.weight.grad()",
        "the loss rose",
    ),
    (
        "d2lzh_notebook.py",
        {"corr2d_multi_in", "corr2d_multi_in_out"},
        "return nd.add_n(*[d2l.corr2d(x, k) for x, k in zip(X, K)])",
        "return nd.add_n(*[d2l.corr2d(x, k) for x, k in zip(X, K)]) / X.shape[0]",
        "the input channels are averaged",
    ),
    (
        "gluonbook_2018.py",
        {"corr2d_multi_in_out"},
        "return nd.stack(*[corr2d_multi_in(X, k) for k in K])",
        "return nd.stack(*[corr2d_multi_in(X, k) for k in K], axis=2)",
        "stack them on axis 0",
    ),
    (
        "flat_d2l_2019_nd.py",
        {"corr2d_multi_in_out_1x1"},
        "K = K.reshape((c_o, c_i))",
        "K = K.reshape((c_i, c_o))",
        "works only when both are equal",
    ),
    (
        "d2l_1_0_notebook.py",
        {"Conv2D"},
        "return corr2d(x, self.weight.data()) + self.bias.data()",
        "return corr2d(x, self.weight.data())",
        "the bias is missing",
    ),
    (
        "nbconvert_export.py",
        {"conv_output_shape"},
        "out.append((n - k + 2 * p + s) // s)",
        "out.append(n - k + 2 * p + 1)",
        "the stride is ignored",
    ),
    (
        "tabs_crlf.py",
        LAYER,
        "Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))",
        "Y = np.zeros((X.shape[0] - h, X.shape[1] - w + 1))",
        "your output has n_h - k_h rows",
    ),
    (
        "prints_and_accumulation.py",
        {"corr2d", "corr2d_multi_in", "corr2d_multi_in_out"},
        '    print("output", Y)\n    return Y\n',
        '    print("output", Y)\n    return Y.T\n',
        "your output is transposed",
    ),
]


def as_notebook(text: str, path: Path) -> Path:
    """The notebook a file of `# In[ ]:` cells was copied from."""
    cells = [cell.strip("\n") for cell in CELL_MARK.split(text) if cell.strip()]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata.update(  # as Jupyter writes it
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python", "file_extension": ".py", "nbconvert_exporter": "python"},
    )
    nbformat.write(notebook, path)
    return path


def submitted(name: str, folder: Path, text: str | None = None) -> Path:
    """The corpus file as a student hands it in, optionally with a change."""
    source = CORPUS / name
    text = source.read_bytes().decode() if text is None else text
    if name in NOTEBOOKS:
        return as_notebook(text, folder / f"{source.stem}.ipynb")
    path = folder / name
    path.write_bytes(text.encode())
    return path


def config():
    """Few hidden cases; time for top-level demos that plot and train, on a busy machine."""
    return small_config(load_seconds=60)


def assert_full_marks_on(report, defined: set[str]) -> None:
    assert {e.name for e in report.exercises if e.defined_at} == defined
    assert full_marks(report) == defined, scores(report)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_each_style_scores_full_marks_on_what_it_defines(tmp_path, name):
    defined, api = STYLES[name]
    report = grade_pooled(submitted(name, tmp_path), config())
    assert_full_marks_on(report, defined)
    assert {e.api for e in report.exercises if e.defined_at} == {api}
    assert not [n for n in report.notes if n.startswith("error while loading")], report.notes


@pytest.mark.parametrize(
    "name, losers, old, new, diagnosis", BUGS, ids=[f"{b[0]}:{b[4]}" for b in BUGS]
)
def test_a_bug_in_any_style_costs_points_only_where_it_belongs(
    tmp_path, name, losers, old, new, diagnosis
):
    text = with_change((CORPUS / name).read_bytes().decode(), old, new)
    report = grade_pooled(submitted(name, tmp_path, text), config())
    defined, _ = STYLES[name]
    assert full_marks(report) == defined - losers, scores(report)
    messages = [
        t.message
        for e in report.exercises
        if e.name in losers
        for t in e.tests
        if t.status != "passed"
    ]
    assert any(diagnosis in m for m in messages), messages[:2]


def test_code_exported_by_nbconvert_grades_like_its_notebook(tmp_path):
    notebook = submitted("d2l_1_0_notebook.py", tmp_path)
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "script", str(notebook)],
        check=True,
        capture_output=True,
    )
    exported = notebook.with_suffix(".py")
    assert "get_ipython().run_line_magic('matplotlib', 'inline')" in exported.read_text()
    notebook.unlink()
    assert_full_marks_on(grade_pooled(exported, config()), ALL_NAMES)


SEED_NAMES = {
    "000": {"corr2d", "Conv2D", "comp_conv2d", "corr2d_multi_in", "corr2d_multi_in_out"},
    "001": LAYER,
    "002": {"corr2d", "Conv2D", "comp_conv2d", "corr2d_multi_in", "corr2d_multi_in_out"},
    "003": CHANNELS,
}


@pytest.mark.parametrize("form", ["ipynb", "py"])
@pytest.mark.parametrize("seed", sorted(SEED_NAMES))
def test_the_source_texts_score_full_marks_as_typed(tmp_path, seed, form):
    text = seed_text(seed)
    if text is None:
        pytest.skip("the source texts are in ../shared/seeds, beside the clone")
    cells = student_cells(text)
    if form == "ipynb":
        path = as_notebook("".join(f"# In[ ]:\n{cell}\n" for cell in cells), tmp_path / "s.ipynb")
    else:
        path = tmp_path / f"seed{seed}.py"
        path.write_text("\n".join(cells))
    assert_full_marks_on(grade_pooled(path, config()), SEED_NAMES[seed])
