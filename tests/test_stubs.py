from pathlib import Path

import nbformat
import pytest
from conftest import EXERCISES, SOLUTIONS

from grader import stubs


def test_checked_in_exercises_are_what_the_generator_makes():
    assert stubs.stale_exercises(SOLUTIONS, EXERCISES) == []


def test_a_stale_exercise_is_detected(tmp_path):
    stubs.write_exercises(SOLUTIONS, tmp_path)
    (tmp_path / "channels.py").write_text("# edited by hand\n")
    (tmp_path / "conv_layer.ipynb").unlink()
    assert sorted(stubs.stale_exercises(SOLUTIONS, tmp_path)) == ["channels.py", "conv_layer.ipynb"]


def test_solution_blocks_become_stubs_and_the_rest_stays():
    source = '''def f(x):
    """Doc stays."""
    # BEGIN SOLUTION
    secret = x * 42
    return secret
    # END SOLUTION

print(f)
'''
    out = stubs.stub_source(source)
    assert "secret" not in out and "42" not in out
    assert '"""Doc stays."""' in out and "print(f)" in out
    assert '    raise NotImplementedError("write this part")' in out


def code_lines(path: Path) -> set[str]:
    """Lines of code (not comments, not text cells) of an exercise file."""
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        text = "\n".join(c.source for c in cells if c.cell_type == "code")
    else:
        text = path.read_text()
    return {
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    }


def test_no_solution_code_leaks_into_the_exercises():
    for solution in SOLUTIONS.glob("*.py"):
        blocks = solution.read_text().split(stubs.BEGIN)[1:]
        solution_lines = {
            line.strip()
            for block in blocks
            for line in block.split(stubs.END)[0].splitlines()
            if line.strip() and not line.strip().startswith("#")
        }
        assert solution_lines
        for suffix in (".py", ".ipynb"):
            exercise = (EXERCISES / solution.name).with_suffix(suffix)
            leaked = solution_lines & code_lines(exercise)
            assert leaked == set(), f"{exercise.name}: {leaked}"


def test_notebooks_keep_text_cells_and_signatures():
    notebook = nbformat.read(EXERCISES / "conv_layer.ipynb", as_version=4)
    nbformat.validate(notebook)
    kinds = {cell.cell_type for cell in notebook.cells}
    assert kinds == {"markdown", "code"}
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "def corr2d(X, K):" in text and "class Conv2D(nn.Block):" in text
    assert "# Convolutions for Images" in text
    assert "# %%" not in text


@pytest.mark.parametrize(
    "source, problem",
    [
        ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "without a"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block"),
    ],
)
def test_unpaired_markers_are_refused_with_the_line(source, problem):
    with pytest.raises(stubs.StubError, match=problem) as error:
        stubs.stub_source(source, filename="broken.py")
    assert "broken.py:" in str(error.value)


def test_generation_is_reproducible(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    stubs.write_exercises(SOLUTIONS, first)
    stubs.write_exercises(SOLUTIONS, second)
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes()
