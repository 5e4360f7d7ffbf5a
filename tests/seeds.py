"""The project's source texts (`../shared/seeds/`), as the code a student typing them would have.

The texts are notebooks printed with their outputs: `In [N]: code` blocks whose continuation
lines lost their indentation relative to the first, `In [N]:` headers above the code, or
fenced ```python cells. A student copies the code, not the outputs, and indents it so that it
runs: `student_cells` does the same, and keeps a cell as printed when it already parses.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
PROMPT_BLOCK = re.compile(  # "In [1]:", with a plain or a no-break space
    r"^In[ \xa0]\[\d+\]:[ \t]*(.*?)(?=^In[ \xa0]\[\d+\]:|^Out\[\d+\]:|\Z)", re.S | re.M
)
OUTPUT_LINE = re.compile(r"^\s*(\[\[|\[\s*[-\d]|<NDArray|array\(|Out\[)")
PROSE_LINE = re.compile(r"^[A-Z][a-z]{2,}[A-Za-z ,'×-]*[.:]?$")


def seed_text(prefix: str) -> str | None:
    """The text of the seed whose file name starts with prefix, None where shared/ is absent."""
    found = sorted(SEEDS.glob(f"{prefix}*.txt")) if SEEDS.is_dir() else []
    return found[0].read_text() if found else None


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def reindented(first: str, rest: list[str]) -> str:
    """`In [N]: def f():` with its body printed at the column of `def`: indent it under it."""
    body = textwrap.dedent("\n".join(rest))
    if first.rstrip().endswith(":"):
        body = textwrap.indent(body, "    ")
    return "\n".join([first, body]).strip() + "\n"


def prompt_cells(text: str) -> list[str]:
    """Cells of the `In [N]: code` and `In [N]:` newline `code` forms."""
    cells = []
    for match in PROMPT_BLOCK.finditer(text):
        code: list[str] = []
        block = match.group(1).split("```")[0]  # a fenced cell ends at its fence
        for line in block.split("\n"):
            follows_code = code and not code[-1].rstrip().endswith((",", "(", "["))
            if OUTPUT_LINE.match(line) and follows_code:
                break  # what the cell printed
            if PROSE_LINE.match(line) and (not code or not code[-1].strip()):
                break  # the text between cells
            code.append(line.rstrip())
        printed = "\n".join(code).strip("\n")
        if not printed.strip():
            continue
        if parses(printed):
            cells.append(printed + "\n")
            continue
        first, *rest = printed.split("\n")
        cells.append(reindented(first, rest))
    return cells


def fenced_cells(text: str) -> list[str]:
    return [block for block in re.findall(r"```python\n(.*?)```", text, re.S)]


def student_cells(text: str) -> list[str]:
    """The code cells of a seed text, as a student would have typed them."""
    return fenced_cells(text) or prompt_cells(text)
