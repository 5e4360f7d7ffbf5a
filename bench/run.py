"""Benchmark: what grading one submission costs, cold, next to a bare `import mxnet`.

Each measurement is a fresh process, repeated; rounds interleave the commands so that machine
noise hits them alike. Prints a Markdown table of medians (min-max) for the README.

    .venv/bin/python bench/run.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
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
}


def run_once(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    student_seconds, tests = [], 0
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            seconds, stdout = run_once(command)
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


if __name__ == "__main__":
    main()
