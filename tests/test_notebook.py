"""check() called from a cell of a real notebook, executed by a real Jupyter kernel."""

import nbformat
import pytest
from bugs import buggy_text
from conftest import SOLUTIONS
from nbclient import NotebookClient

from grader.notebook import without_check_calls
from grader.stubs import split_cells


def executed(notebook_cells: list[str], folder) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(text) for text in notebook_cells]
    NotebookClient(
        notebook, timeout=180, allow_errors=True, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def test_check_in_a_cell_grades_the_cells_run_so_far_and_shows_html(tmp_path):
    text = buggy_text("flipped-kernel")
    code = [cell.source for cell in split_cells(text) if cell.kind == "code"]
    notebook = executed(
        [
            "!echo shell lines are skipped",
            *code,
            "from grader import check\ncheck('corr2d', 'conv_output_shape')",
            "check()",
        ],
        tmp_path,
    )

    partial, everything = notebook.cells[-2].outputs[-1], notebook.cells[-1].outputs[-1]
    html, text = partial["data"]["text/html"], partial["data"]["text/plain"]
    assert "<table>" in html and "<code>corr2d</code>" in html and "FAIL" in html
    assert "expected [[19., 25.]," in html.replace("&#x27;", "'")
    assert html.count('aria-label="received - expected"') == 2, "the public case and the example"
    assert "Smallest failing input found" in html and "smallest failing input found" in text
    assert "[FAIL] corr2d" in text and "[pass] conv_output_shape" in text
    assert "1 of 2 exercises pass" in text
    assert "4 of 8 exercises pass" in everything["data"]["text/plain"]


def test_earlier_check_calls_are_not_graded_again():
    cell = "from grader import check\nresult = check('corr2d')\nimport grader\nx = 1"
    assert without_check_calls(cell).splitlines() == [
        "pass",
        "result = check('corr2d')",
        "pass",
        "x = 1",
    ]


def test_check_grades_a_notebook_written_in_the_nd_api_with_the_books_package(tmp_path):
    notebook = executed(
        [
            "%matplotlib inline\nimport d2lzh as d2l\nfrom mxnet import nd",
            "def corr2d(X, K):\n"
            "    h, w = K.shape\n"
            "    Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))\n"
            "    for i in range(Y.shape[0]):\n"
            "        for j in range(Y.shape[1]):\n"
            "            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()\n"
            "    return Y",
            "def corr2d_multi_in(X, K):\n"
            "    return nd.add_n(*[d2l.corr2d(x, k) for x, k in zip(X, K)])",
            "from grader import check\ncheck('corr2d', 'corr2d_multi_in')",
        ],
        tmp_path,
    )
    text = notebook.cells[-1].outputs[-1]["data"]["text/plain"]
    assert "[pass] corr2d" in text and "[pass] corr2d_multi_in" in text, text
    assert "written in MXNet's legacy nd API" in text


def test_check_grades_the_pytorch_edition_when_told_so(tmp_path):
    pytest.importorskip("torch")
    solution = (SOLUTIONS / "pytorch" / "conv_layer.py").read_text()
    code = [cell.source for cell in split_cells(solution) if cell.kind == "code"]
    notebook = executed(
        [*code, "from grader import check\ncheck('corr2d', 'Conv2D', framework='pytorch')"],
        tmp_path,
    )
    text = notebook.cells[-1].outputs[-1]["data"]["text/plain"]
    assert "[pass] corr2d" in text and "[pass] Conv2D" in text, text
