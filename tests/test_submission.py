import json

import nbformat
import pytest
from conftest import write

from grader.submission import SubmissionNotFound, read_submission, without_ipython_lines


def notebook(*cells: tuple[str, str]) -> str:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    return nbformat.writes(nb)


def test_a_python_file_is_one_cell_run_under_its_module_name(tmp_path):
    submission = read_submission(write(tmp_path, "conv_layer.py", "x = 1\n"))
    (source,) = submission.sources
    assert source.module_name == "conv_layer" and source.cells[0].text == "x = 1\n"
    assert submission.problems == () and submission.name == "conv_layer.py"


def test_a_notebook_gives_its_code_cells_with_magics_turned_into_pass(tmp_path):
    text = notebook(
        ("markdown", "# Title"),
        ("code", "!pip install d2l\nx = 1"),
        ("code", "%matplotlib inline\nif x:\n    %time y = 2\n"),
    )
    (source,) = read_submission(write(tmp_path, "work.ipynb", text)).sources
    assert [c.label for c in source.cells] == ["work.ipynb, cell 2", "work.ipynb, cell 3"]
    assert source.cells[0].text.splitlines() == ["pass  # pip install d2l", "x = 1"]
    assert source.cells[1].text.splitlines()[2] == "    pass  # time y = 2"
    assert source.module_name == "__main__"


def test_ipython_lines_keep_line_numbers():
    text = "a = 1\n!ls\nb = 2"
    assert len(without_ipython_lines(text).splitlines()) == 3


def test_a_folder_is_read_in_name_order_skipping_other_files(tmp_path):
    for name in ("b.py", "a.ipynb", "notes.txt", ".hidden.py"):
        write(tmp_path, name, notebook(("code", "x = 1")) if name.endswith("ipynb") else "x = 1")
    (tmp_path / "sub").mkdir()
    submission = read_submission(tmp_path)
    assert [s.name for s in submission.sources] == ["a.ipynb", "b.py"]
    assert [p.name for p in submission.files] == ["a.ipynb", "b.py"]


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("essay.txt", "I wrote corr2d on paper.", "not a .py file, a notebook or a folder"),
        ("binary.py", b"\x89PNG\r\n\x1a\n\xff\xfe", "not UTF-8 text"),
        ("broken.ipynb", "{not json", "not a readable notebook"),
        ("wrong.ipynb", json.dumps({"cells": 3}), "not a readable notebook"),
    ],
)
def test_unreadable_files_become_problems_not_exceptions(tmp_path, name, content, problem):
    submission = read_submission(write(tmp_path, name, content))
    assert submission.sources == ()
    assert len(submission.problems) == 1 and problem in submission.problems[0]
    assert name in submission.problems[0]


def test_an_empty_folder_is_a_problem(tmp_path):
    assert "holds no .py or .ipynb" in read_submission(tmp_path).problems[0]


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path):
    with pytest.raises(SubmissionNotFound):
        read_submission(tmp_path / "nowhere.py")


def test_magics_copied_into_a_py_file_become_pass_only_where_they_break_it(tmp_path):
    copied = "%matplotlib inline\n!pip install d2l\nimport math\n"
    (source,) = read_submission(write(tmp_path, "copied.py", copied)).sources
    assert source.cells[0].text.splitlines()[:2] == [
        "pass  # matplotlib inline",
        "pass  # pip install d2l",
    ]
    valid = 'TEXT = """\n%d items\n"""\n'  # a line of a string that starts with %
    (source,) = read_submission(write(tmp_path, "valid.py", valid)).sources
    assert source.cells[0].text == valid
