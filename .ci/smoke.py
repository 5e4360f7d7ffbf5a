"""The smoke run on a Python other than CI's default: install, grade, notebook, batch, wheel.

Run it with the Python of an environment `make setup PYTHON=...` made:

    .venv-3.12/bin/python .ci/smoke.py

It grades solutions/ (full marks) and exercises/ (zero) in the strict sandbox, runs `check()`
from a notebook cell in a real Jupyter kernel, grades a class of two with `batch`, and builds
the wheel, installs it into a fresh environment and grades with its `d2l-grader` command.
Each step prints its wall time; the first failure ends the run with status 1.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
BIN = PYTHON.parent


class SmokeFailure(Exception):
    pass


def run(*argv: str | Path, cwd: Path = ROOT, timeout: int = 900) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise SmokeFailure(
            f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def graded(command: list[str | Path], submission: Path, cwd: Path = ROOT) -> dict:
    return json.loads(
        run(*command, "grade", submission, "--format", "json", "--isolation", "strict", cwd=cwd)
    )


def check_versions(work: Path) -> None:
    text = run(BIN / "d2l-grader", "--version")
    expect(f"Python {platform.python_version()}" in text, f"--version said {text!r}")
    print(f"  {text.strip()}")


def check_solutions_and_stubs(work: Path) -> None:
    grader = [PYTHON, "-m", "grader"]
    full = graded(grader, ROOT / "solutions")
    expect(full["score"] == full["max_score"], f"solutions scored {full['score']}")
    zero = graded(grader, ROOT / "exercises")
    expect(zero["score"] == 0, f"the stubs scored {zero['score']}")
    print(f"  solutions {full['score']}/{full['max_score']}, stubs {zero['score']}")


def check_notebook(work: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    solution = (ROOT / "solutions" / "conv_layer.py").read_text()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(text)
        for text in (
            "import numpy, mxnet\nprint(numpy.__version__)",
            solution,
            "from grader import check\ncheck('corr2d', 'conv_output_shape')",
        )
    ]
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(work)}}).execute()
    versions = notebook.cells[0].outputs[0]["text"].strip()
    text = notebook.cells[-1].outputs[-1]["data"]["text/plain"]
    expect("[pass] corr2d" in text, f"check() in the kernel said:\n{text}")
    expect("[FAIL] conv_output_shape" in text, f"check() in the kernel said:\n{text}")
    print(f"  kernel on numpy {versions}: corr2d passes, conv_output_shape (not written) fails")


def check_batch(work: Path) -> None:
    folder = work / "class"
    shutil.copytree(ROOT / "solutions", folder / "solved")
    (folder / "stubs").mkdir()
    for stub in (ROOT / "exercises").glob("*.py"):
        shutil.copy(stub, folder / "stubs")
    output = work / "grades.csv"
    run(PYTHON, "-m", "grader", "batch", folder, "--output", output, "--jobs", "2", cwd=work)
    with open(output, newline="") as opened:
        rows = {row["id"]: row for row in csv.DictReader(opened)}
    expect(set(rows) == {"solved", "stubs"}, f"the gradebook has rows {sorted(rows)}")
    expect(rows["solved"]["total"] == rows["solved"]["max"], f"solved: {rows['solved']}")
    expect(float(rows["stubs"]["total"]) == 0, f"stubs: {rows['stubs']}")
    print(f"  gradebook: solved {rows['solved']['total']}, stubs {rows['stubs']['total']}")


def check_wheel(work: Path) -> None:
    source = work / "project"  # a copy: building writes build/ and *.egg-info beside it
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "grader", source / "grader", ignore=shutil.ignore_patterns("__py*"))
    run(PYTHON, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", source)
    (wheel,) = (work / "dist").glob("*.whl")
    environment = work / "wheel-env"
    # From the installed Python itself: a venv of this venv's python would run through a link
    # in this environment, which the sandbox does not hold.
    run(os.path.realpath(PYTHON), "-m", "venv", environment)
    pip = [environment / "bin" / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, wheel)
    run(*pip, "--no-deps", "-r", ROOT / "requirements-mxnet.txt")
    course = work / "course"
    course.mkdir()
    shutil.copy(ROOT / "config.yaml", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    command = [environment / "bin" / "d2l-grader"]
    text = run(*command, "--version", cwd=course)
    expect(text.startswith("d2l-grader "), f"--version said {text!r}")
    full = graded(command, Path("solutions"), cwd=course)
    expect(full["score"] == full["max_score"], f"the wheel graded solutions {full['score']}")
    print(f"  {wheel.name}: {text.strip()}; solutions {full['score']}/{full['max_score']}")


STEPS = {
    "d2l-grader --version": check_versions,
    "grade solutions/ and exercises/": check_solutions_and_stubs,
    "check() in a Jupyter kernel": check_notebook,
    "batch of two": check_batch,
    "the wheel in a fresh environment": check_wheel,
}


def main() -> int:
    print(f"smoke run on Python {platform.python_version()} ({PYTHON})")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="smoke-") as temporary:
        for number, (name, step) in enumerate(STEPS.items()):
            work = Path(temporary) / str(number)
            work.mkdir()
            began = time.perf_counter()
            try:
                step(work)
            except (SmokeFailure, subprocess.TimeoutExpired) as error:
                print(f"FAILED {name}: {error}")
                return 1
            print(f"ok {name} ({time.perf_counter() - began:.1f} s)")
    print(f"smoke run passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
