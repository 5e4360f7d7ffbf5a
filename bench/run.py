"""Benchmark: one submission cold next to a bare framework import, and a class in batch.

Each single-submission measurement is a fresh process, repeated; rounds interleave the
commands so that machine noise hits them alike. Then a synthetic class (correct and buggy
submissions made from solutions/) is graded by `batch` with 1 job and with all cores, and
the similarity check that ends a batch is timed on a class with code of its own. Both editions
(MXNet, and PyTorch where it is installed), and the simulated GPU (`--device simulated`), which
runs every case a second time on the GPU path. Prints Markdown tables for the README.

    .venv/bin/python bench/run.py [--repeat 5] [--class-size 100] [--only-similarity]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader", "grade", "--format", "json", "--device", "cpu"]
SOLUTIONS_STRICT = "grade `solutions/` in the bubblewrap sandbox (`--isolation strict`), cold"
SOLUTIONS_BASIC = "grade `solutions/` as a plain child process (`--isolation basic`), cold"
COMMANDS = {
    "`python -c 'import mxnet'` alone": [sys.executable, "-c", "import mxnet"],
    SOLUTIONS_STRICT: [*GRADE, "--isolation", "strict", "solutions"],
    SOLUTIONS_BASIC: [*GRADE, "--isolation", "basic", "solutions"],
    "grade `exercises/` (the stubs), strict, cold": [*GRADE, "--isolation", "strict", "exercises"],
    "grade `solutions/`, strict, cold, on the CPU and the simulated GPU": [
        *GRADE[:-2],
        "--device",
        "simulated",
        "--isolation",
        "strict",
        "solutions",
    ],
}
PYTORCH = [*GRADE[:-2], "--framework", "pytorch", "--isolation", "strict"]
PYTORCH_COMMANDS = {
    "`python -c 'import torch'` alone": [sys.executable, "-c", "import torch"],
    "grade `solutions/pytorch/` (`--framework pytorch`), strict, cold": [
        *PYTORCH,
        "--device",
        "cpu",
        "solutions/pytorch",
    ],
    "grade `solutions/pytorch/`, strict, cold, on the CPU and the simulated GPU": [
        *PYTORCH,
        "--device",
        "simulated",
        "solutions/pytorch",
    ],
}


BOOK_IMPORT = "from d2l import mxnet as d2l  # the book's package, as its notebooks begin\n"
BOOK_SOLUTIONS = "grade `solutions/` as one file that imports the book's d2l, strict, cold"

BUGS = [  # one realistic bug each; None is a correct submission
    None,
    ("(X[i : i + h, j : j + w] * K).sum()", "(X[i : i + h, j : j + w] * np.flip(K)).sum()"),
    ("corr2d(x, self.weight.data()) + self.bias.data()", "corr2d(x, self.weight.data())"),
    ("(n + 2 * p - k) // s + 1", "(n + 2 * p - k) + 1"),
    ("sum(corr2d(x, k) for x, k in zip(X, K))", "sum(corr2d(x, k) for x, k in zip(X, K)) / 2"),
]


PYTORCH_BUGS = [
    None,
    (
        "(X[i : i + h, j : j + w] * K).sum()",
        "(X[i : i + h, j : j + w] * torch.flip(K, (0, 1))).sum()",
    ),
    ("corr2d(x, self.weight) + self.bias", "corr2d(x, self.weight)"),
    ("(n + 2 * p - k) // s + 1", "(n + 2 * p - k) + 1"),
    ("sum(corr2d(x, k) for x, k in zip(X, K))", "sum(corr2d(x, k) for x, k in zip(X, K)) / 2"),
]


def synthetic_class(folder: Path, size: int, framework: str = "mxnet") -> None:
    """size single-file submissions, cycling through the correct one and the bugs."""
    solutions, bugs = (
        (ROOT / "solutions", BUGS)
        if framework == "mxnet"
        else (ROOT / "solutions" / framework, PYTORCH_BUGS)
    )
    text = "\n".join(
        (solutions / name).read_text()
        for name in ("conv_layer.py", "padding_and_strides.py", "channels.py")
    )
    text = text.replace("from conv_layer import corr2d\n", "")
    folder.mkdir(parents=True)
    for number in range(size):
        bug = bugs[number % len(bugs)]
        assert bug is None or bug[0] in text, bug
        (folder / f"student{number:03d}.py").write_text(text.replace(*bug) if bug else text)


def batch_rows(
    size: int, root: Path = ROOT, label: str = "", book: bool = False, framework: str = "mxnet"
) -> list[str]:
    """Markdown rows: the class graded with 1 job and with every core, by the grader of the
    checkout at root; with book, every submission also imports the book's d2l."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "class"
        synthetic_class(folder, size, framework)
        if book:
            for path in folder.iterdir():
                path.write_text(BOOK_IMPORT + path.read_text())
        for jobs in sorted({1, os.cpu_count() or 1}):
            output = Path(scratch) / f"grades-{jobs}.csv"
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "grader",
                    "batch",
                    str(folder),
                    "--output",
                    str(output),
                    "--jobs",
                    str(jobs),
                    *(["--framework", framework] if framework != "mxnet" else []),
                ],
                cwd=root,
                env=environment(root),
                check=True,
                capture_output=True,
            )
            seconds = time.perf_counter() - started
            reports = list(output.with_name(f"{output.stem}-reports").glob("*.json"))
            documents = [json.loads(r.read_text()) for r in reports]
            student = sum(
                d["load_seconds"] + sum(t["seconds"] for e in d["exercises"] for t in e["tests"])
                for d in documents
            )
            overhead = (seconds * jobs - student) / size
            rows.append(
                f"| {size} submissions{label}, `--jobs {jobs}` | {seconds:.1f} s | "
                f"{60 * size / seconds:.0f} | {overhead:.2f} s |"
            )
    return rows


def mixed_class(folder: Path, size: int) -> None:
    """size single-file submissions, each exercise in one of the test class's five students'
    styles, drawn at random: real code of their own, some of it shared by chance."""
    sys.path.insert(0, str(ROOT / "tests"))
    import numpy as np
    from classroom import ANA, BEN, CHLOE, DEV, ELI, EXTRA_IMPORTS, one_file, student_files

    styles, imports = (ANA, BEN, CHLOE, DEV, ELI), "".join(EXTRA_IMPORTS.values())
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for number in range(size):
        code = {name: styles[int(rng.integers(len(styles)))][name] for name in ANA}
        text = imports + one_file(student_files(code))
        (folder / f"student{number:03d}.py").write_text(text)


def similarity_row(size: int) -> str:
    """Markdown row: comparing every pair of a class, as batch does at its end."""
    from grader.batch import write_similarity
    from grader.cases import public_case_counts
    from grader.config import load_config

    config = load_config(ROOT / "config.yaml", public_case_counts())
    with tempfile.TemporaryDirectory() as scratch:
        folder, reports = Path(scratch) / "class", Path(scratch) / "reports"
        mixed_class(folder, size)
        reports.mkdir()
        started, cpu = time.perf_counter(), time.process_time()
        found = write_similarity(sorted(folder.iterdir()), reports, config)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    pairs = size * (size - 1) // 2
    return (
        f"| similarity of {size} submissions ({pairs} pairs, {len(found.pairs)} listed "
        f"with their pages) | {seconds:.1f} s ({cpu:.1f} s of CPU) |"
    )


def has_pytorch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def environment(root: Path) -> dict[str, str]:
    """The grader of the checkout at root first on the path: the environment's start-up hook
    imports this checkout's grader package before `-m grader` would look in the cwd."""
    if root == ROOT:
        return dict(os.environ)
    return {**os.environ, "PYTHONPATH": str(root)}


def run_once(command: list[str], root: Path = ROOT) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=root, env=environment(root), capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, done.stdout


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=100)
    parser.add_argument(
        "--only-similarity", action="store_true", help="measure only the similarity check"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. `git worktree add ../before REV`) measured side by side",
    )
    args = parser.parse_args()
    if args.only_similarity:
        print("| what | wall time |\n|---|---|\n" + similarity_row(args.class_size))
        return

    scratch = Path(tempfile.mkdtemp())
    book_file = scratch / "book_student.py"
    synthetic_class(scratch / "one", 1)
    book_file.write_text(BOOK_IMPORT + (scratch / "one" / "student000.py").read_text())
    commands = COMMANDS | (PYTORCH_COMMANDS if has_pytorch() else {})
    runs = {name: (command, ROOT) for name, command in commands.items()}
    runs[BOOK_SOLUTIONS] = ([*GRADE, "--isolation", "strict", str(book_file)], ROOT)
    if args.baseline:
        for name in (SOLUTIONS_STRICT, BOOK_SOLUTIONS):
            runs[f"{name}, by the baseline"] = (runs[name][0], args.baseline.resolve())
    times: dict[str, list[float]] = {name: [] for name in runs}
    student_seconds, tests = [], 0
    for _ in range(args.repeat):
        for name, (command, root) in runs.items():
            seconds, stdout = run_once(command, root)
            times[name].append(seconds)
            if name == SOLUTIONS_STRICT:
                report = json.loads(stdout)
                all_tests = [t for e in report["exercises"] for t in e["tests"]]
                tests = sum(t["status"] == "passed" for t in all_tests)
                student_seconds.append(sum(t["seconds"] for t in all_tests))

    print(f"Medians of {args.repeat} interleaved runs (min-max), CPU only:\n")
    print("| what | wall time |")
    print("|---|---|")
    for name, values in times.items():
        print(f"| {name} | {spread(values)} |")
    print(
        f"| of which the reference solutions' own code, {tests} tests | {spread(student_seconds)} |"
    )
    strict = statistics.median(times[SOLUTIONS_STRICT])
    basic = statistics.median(times[SOLUTIONS_BASIC])
    mxnet = statistics.median(times["`python -c 'import mxnet'` alone"])
    print(
        f"\nA cold strict grade costs {strict / mxnet:.1f}x a bare `import mxnet`; the "
        f"sandbox adds {strict - basic:+.2f} s ({strict / basic:.2f}x basic)."
    )
    print(
        f"\nBatch, strict isolation where available, {os.cpu_count()} cores; overhead is wall "
        f"time x jobs minus the student code's own time (loading and tests), per submission:\n"
    )
    print("| class | wall time | submissions per minute | overhead per submission |")
    print("|---|---|---|---|")
    print("\n".join(batch_rows(args.class_size)))
    print("\n".join(batch_rows(args.class_size, label=" importing d2l", book=True)))
    if has_pytorch():
        print("\n".join(batch_rows(args.class_size, label=", PyTorch", framework="pytorch")))
    if args.baseline:
        print("\n".join(batch_rows(args.class_size, args.baseline.resolve(), ", by the baseline")))
    print("\nThe similarity check at the end of batch, measured once:\n")
    print("| what | wall time |\n|---|---|\n" + similarity_row(args.class_size))


if __name__ == "__main__":
    main()
