"""Read a submission (a .py file, a notebook, or a folder of them) into plain source cells.

Nothing here runs student code: it only reads files. A .py file is one cell; a notebook gives
one cell per code cell, with IPython-only lines (`!pip ...`, `%matplotlib ...`) replaced by
`pass`. Files that cannot be read become problems in the report, never exceptions.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_FILE_BYTES = 2 * 2**20
CODE_SUFFIXES = (".py", ".ipynb")
IPYTHON_LINE = re.compile(r"^(\s*)[!%]")


class SubmissionNotFound(FileNotFoundError):
    """The path given does not exist: a usage error, not a broken submission."""


@dataclass(frozen=True)
class Cell:
    label: str  # "corr2d.py" or "channels.ipynb, cell 4": where errors point
    text: str


@dataclass(frozen=True)
class SourceFile:
    name: str
    module_name: str  # __name__ while it runs: the file's stem for .py, __main__ for notebooks
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Submission:
    name: str
    path: Path
    files: tuple[Path, ...]  # copied into the worker's directory, so sibling imports work
    sources: tuple[SourceFile, ...]
    problems: tuple[str, ...]


def without_ipython_lines(text: str) -> str:
    """Shell escapes and magics are not Python; keep line numbers by writing `pass` instead."""
    return "\n".join(IPYTHON_LINE.sub(r"\1pass  # ", line) for line in text.splitlines())


def python_text(text: str) -> str:
    """A .py file's code; cells copied from a notebook keep their `%matplotlib inline` and
    `!pip` lines, which are taken out only when the file is not Python with them."""
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return without_ipython_lines(text)
    return text


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text, so it cannot be Python") from None


def read_source(path: Path) -> SourceFile:
    """One file as cells; raises ValueError with a readable reason if it cannot be read."""
    text = read_text(path)
    if path.suffix == ".py":
        return SourceFile(path.name, path.stem, (Cell(path.name, python_text(text)),))
    try:
        sources = notebook_code_cells(text)
    except Exception as error:  # nbformat raises several kinds for malformed JSON
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise ValueError(f"{path.name} is not a readable notebook: {reason}") from None
    cells = tuple(
        Cell(f"{path.name}, cell {number}", without_ipython_lines(source))
        for number, source in sources
    )
    return SourceFile(path.name, "__main__", cells)


def notebook_code_cells(text: str) -> list[tuple[int, str]]:
    """(cell number, source) of each code cell, from any nbformat version. Old notebooks
    (nbformat 1-3, IPython before 3.0) are upgraded with nbformat; one that its converter
    refuses (a key missing that old front ends never wrote) is read from its worksheets."""
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception:
        document = json.loads(text)
        version = document.get("nbformat") if isinstance(document, dict) else None
        if not (isinstance(version, int) and version < 4):
            raise
        sheets = [w for w in document.get("worksheets") or [] if isinstance(w, dict)]
        cells = [c for w in sheets for c in w.get("cells") or []] or document.get("cells") or []
    else:
        cells = notebook.cells
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input"))
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if isinstance(source, str):
            found.append((number, source))
    return found


def read_submission(path: Path) -> Submission:
    """Read one student's work; problems are collected, so a report can always be written."""
    if not path.exists():
        raise SubmissionNotFound(f"{path}: no such file or folder")
    if path.is_dir():
        candidates = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix in CODE_SUFFIXES and not p.name.startswith(".")
        )
        problems = [] if candidates else [f"{path.name}/ holds no .py or .ipynb file"]
    elif path.suffix in CODE_SUFFIXES:
        candidates, problems = [path], []
    else:
        candidates, problems = [], [f"{path.name} is not a .py file, a notebook or a folder"]
    sources, files = [], []
    for candidate in candidates:
        try:
            sources.append(read_source(candidate))
            files.append(candidate)
        except (OSError, ValueError) as error:
            problems.append(str(error))
    return Submission(path.name, path, tuple(files), tuple(sources), tuple(problems))
