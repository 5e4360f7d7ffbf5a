"""Generate the student exercises from solutions/, the one source of truth.

A solution file is Python in the "percent" notebook format: `# %%` starts a code cell and
`# %% [markdown]` a text cell whose lines are comments. Each `# BEGIN SOLUTION` ... `# END
SOLUTION` block becomes a stub that raises NotImplementedError; everything else (signatures,
docstrings, explanations, examples) is kept. Each solution gives an exercise `.py` and `.ipynb`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB_MESSAGE = "write this part"
CELL_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")


class StubError(ValueError):
    """A solution file whose markers do not pair up."""


@dataclass(frozen=True)
class Cell:
    kind: str  # "code" or "markdown"
    source: str


def stub_source(text: str, filename: str = "<solution>") -> str:
    """Replace every solution block with a stub that raises NotImplementedError."""
    out: list[str] = []
    open_at: int | None = None
    indent = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if open_at is not None:
                raise StubError(
                    f"{filename}:{number}: {BEGIN} inside the block opened at line {open_at}"
                )
            open_at, indent = number, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# TODO: {STUB_MESSAGE}.")
            out.append(f'{indent}raise NotImplementedError("{STUB_MESSAGE}")')
        elif stripped == END:
            if open_at is None:
                raise StubError(f"{filename}:{number}: {END} without a {BEGIN}")
            open_at = None
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise StubError(f"{filename}:{open_at}: {BEGIN} is never closed")
    return "\n".join(out) + "\n"


def split_cells(text: str) -> list[Cell]:
    """Split percent-format source into cells; text before the first marker is a code cell."""
    cells: list[Cell] = []
    kind, lines = "code", []

    def flush() -> None:
        body = "\n".join(lines).strip("\n")
        if body:
            cells.append(Cell(kind, body))

    for line in text.splitlines():
        marker = CELL_MARKER.match(line)
        if marker:
            flush()
            kind, lines = ("markdown" if marker["markdown"] else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            lines.append(line)
    flush()
    return cells


def to_notebook(text: str) -> nbformat.NotebookNode:
    """A notebook with one cell per percent cell, with stable ids so output is reproducible."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(split_cells(text)):
        make = (
            nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        )
        nb.cells.append(make(cell.source, id=f"cell-{index}"))
    return nb


def exercise_files(solutions_dir: Path) -> dict[str, str]:
    """Map each exercise file name to the text it should have."""
    files: dict[str, str] = {}
    for solution in sorted(solutions_dir.glob("*.py")):
        stubbed = stub_source(solution.read_text(), filename=str(solution))
        files[solution.name] = stubbed
        files[solution.with_suffix(".ipynb").name] = nbformat.writes(to_notebook(stubbed)) + "\n"
    return files


def write_exercises(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write the generated exercises; return the paths written."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in exercise_files(solutions_dir).items():
        path = exercises_dir / name
        path.write_text(text)
        written.append(path)
    return written


def stale_exercises(solutions_dir: Path, exercises_dir: Path) -> list[str]:
    """Names of exercise files that are missing or differ from what the generator makes."""
    return [
        name
        for name, text in exercise_files(solutions_dir).items()
        if not (exercises_dir / name).is_file() or (exercises_dir / name).read_text() != text
    ]
