"""Grade the PyTorch edition on every GPU in strict isolation, and time it against the CPU.

For a machine with NVIDIA GPUs and a CUDA build of PyTorch (`make gpu-check`). In order:

1. counts the GPUs (`torch.cuda.device_count()` through NVML, in a child process);
2. runs the bare probe, before any CUDA program of its own (as the grader, which counts GPUs
   through NVML, meets the machine): `import torch; torch.zeros(1, device="cuda")` inside the
   sandbox (`bubblewrap_command(gpu=True)`, the course's rlimits, the worker's uid and
   environment), printing its stderr and the host's device nodes if it fails, so that a
   missing bind shows at once;
3. times a fresh process's CUDA start, `import torch` alone against `import torch;
   torch.zeros(1, device="cuda"); torch.cuda.synchronize()`;
4. grades with `--framework pytorch --isolation strict`: solutions/pytorch on `--device all`
   (full marks) and on `--device cpu`, exercises/pytorch (the stubs: 0), and a wrong-device
   submission (corr2d's result made in CPU memory: its GPU tests fail saying "created on
   cpu", every CPU test passes);
5. grades a class of --copies copies of the solutions with `batch`, on the CPU and on all
   devices;

then prints a Markdown table for the README. Exit status 0: every expectation held; 1: one did
not (each says which); 2: it cannot run here (no GPU visible, no PyTorch, no strict isolation).

    python bench/gpu_check.py [--copies 8] [--jobs N] [--config FILE] [--timeout 240]
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is sys.path[0]
    sys.path.insert(0, str(ROOT))

FRAMEWORK = "pytorch"
CANNOT_RUN, EXPECTATION_FAILED = 2, 1
NVML_COUNT = {"PYTORCH_NVML_BASED_CUDA_CHECK": "1"}  # count without creating a CUDA context
COUNT_GPUS = (
    "import json, torch; print(json.dumps({'gpus': torch.cuda.device_count(), "
    "'torch': torch.__version__, 'cuda': torch.version.cuda}))"
)
IMPORT_ONLY = "import torch"
CUDA_START = "import torch; torch.zeros(1, device='cuda'); torch.cuda.synchronize()"
SANDBOX_PROBE = """
import json, os, time
started = time.perf_counter()
import torch
imported = time.perf_counter()
torch.zeros(1, device="cuda")
torch.cuda.synchronize()
ready = time.perf_counter()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({
    "gpus": torch.cuda.device_count(),
    "name": torch.cuda.get_device_name(0),
    "import_seconds": imported - started,
    "cuda_seconds": ready - imported,
    "dev": sorted(os.listdir("/dev")),
    **{key: status[key].strip() for key in ("VmData", "VmRSS", "VmSize")},
}))
"""
# corr2d as a student writes it who asks for CPU memory: right on the CPU; on a GPU its
# result stays on the CPU, which the GPU tests must catch.
WRONG_DEVICE_CORR2D = '''def corr2d(X, K):
    """Correct values, but the result is always made in CPU memory."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), device="cpu")
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y
'''


class CannotRun(Exception):
    """This machine cannot run the check (exit status 2)."""


class CheckFailed(Exception):
    """A step did not produce its result (exit status 1)."""


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    what: str
    devices: str
    score: str  # "100/100", or "-" where nothing is graded
    seconds: float


@dataclass(frozen=True)
class Expectation:
    what: str
    held: bool
    detail: str = ""

    def line(self) -> str:
        return f"{'ok' if self.held else 'FAILED'}: {self.what}" + (
            f" ({self.detail})" if self.detail else ""
        )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/gpu_check.py", description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8, help="submissions in the batch (8)")
    parser.add_argument(
        "--jobs", type=int, help="batch jobs (default: copies, at most the number of cores)"
    )
    parser.add_argument(
        "--config", type=Path, default=ROOT / "config.yaml", help="the course (config.yaml)"
    )
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions" / FRAMEWORK)
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises" / FRAMEWORK)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per start timing")
    parser.add_argument(
        "--timeout", type=float, default=240, help="seconds one grading command may take"
    )
    args = parser.parse_args(argv)
    for name in ("copies", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: expected a number >= 1, got {getattr(args, name)}")
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs: expected a number >= 1, got {args.jobs}")
    if args.jobs is None:
        args.jobs = min(args.copies, os.cpu_count() or 1)
    for name in ("config", "solutions", "exercises"):
        if not getattr(args, name).exists():
            parser.error(f"--{name}: {getattr(args, name)} does not exist")
    return args


# -- the GPUs, and CUDA's start ------------------------------------------------------------------


def count_gpus() -> int:
    """The GPUs PyTorch sees here; CannotRun, saying why, where it sees none."""
    done = subprocess.run(
        [sys.executable, "-c", COUNT_GPUS],
        capture_output=True,
        text=True,
        env=os.environ | NVML_COUNT,
        timeout=120,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise CannotRun(f"PyTorch does not load in {sys.executable}: {last}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["gpus"] == 0:
        build = (
            f"a CUDA {found['cuda']} build" if found["cuda"] else "a CPU build, which sees no GPU"
        )
        raise CannotRun(
            f"no GPU is visible: torch.cuda.device_count() is 0 (torch {found['torch']}, "
            f"{build}); run this on a machine with an NVIDIA GPU and a CUDA build of PyTorch"
        )
    return int(found["gpus"])


def seconds_of(argv: list[str], timeout: float = 120) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise CheckFailed(f"{argv[-1]!r} failed: {tail(done.stderr)}")
    return seconds


def cuda_start_cost(repeat: int) -> tuple[float, float]:
    """Median seconds of a fresh `import torch`, and of one that also starts CUDA
    (interleaved, so that noise hits both alike)."""
    imports, starts = [], []
    for _ in range(repeat):
        imports.append(seconds_of([sys.executable, "-c", IMPORT_ONLY]))
        starts.append(seconds_of([sys.executable, "-c", CUDA_START]))
    return statistics.median(imports), statistics.median(starts)


def sandbox_probe(config_path: Path) -> tuple[dict[str, Any], float]:
    """CUDA's start in the worker's sandbox, with the worker's rlimits, uid and environment."""
    from grader import cases
    from grader.config import load_config
    from grader.isolation import (
        SANDBOX_TMP,
        apply_resource_limits,
        bubblewrap_command,
        gpu_device_binds,
        gpu_environment,
        unprivileged_uid,
    )
    from grader.sandbox import resource_limits, worker_environment

    limits = resource_limits(load_config(config_path, cases.public_case_counts()).limits, gpu=True)
    uid = unprivileged_uid()
    with tempfile.TemporaryDirectory(prefix="gpu-probe-") as scratch:
        workdir = Path(scratch)
        if uid is not None:
            os.chown(workdir, uid, uid)
        command = bubblewrap_command(
            [sys.executable, "-I", "-c", SANDBOX_PROBE], workdir, uid, gpu=True
        )
        started = time.perf_counter()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=worker_environment(SANDBOX_TMP) | gpu_environment(),
            preexec_fn=lambda: apply_resource_limits(limits),
            start_new_session=True,
            timeout=120,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        nodes = ", ".join(
            f"{node} ({stat.filemode(node.stat().st_mode)})" for node in gpu_device_binds()
        )
        raise CheckFailed(
            f"CUDA does not start in the sandbox (status {done.returncode}; memory limit: "
            f"{limits.memory_kind}, {limits.memory_bytes} bytes; the worker's uid: {uid}; "
            f"the host's GPU nodes: {nodes or 'none'}; /dev/nvidia-uvm appears once a CUDA "
            f"program has run on the host, or with `nvidia-modprobe -u -c=0`). "
            f"Its stderr:\n{done.stderr}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds


# -- grading through the command line ------------------------------------------------------------


def grader_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "grader", *arguments, "--framework", FRAMEWORK]


def run_grader(command: list[str], timeout: float) -> tuple[str, float]:
    """stdout and seconds of one grader command; CheckFailed with its stderr if it fails."""
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"{' '.join(command)} took longer than {timeout:g} s") from None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise CheckFailed(
            f"{' '.join(command)} exited with status {done.returncode}: {tail(done.stderr)}"
        )
    return done.stdout, seconds


def grade(submission: Path, device: str, config: Path, timeout: float) -> tuple[dict, float]:
    """The JSON report of one submission graded in strict isolation, and its seconds."""
    command = grader_command(
        "grade", str(submission), "--device", device, "--isolation", "strict", "--format", "json"
    )
    output, seconds = run_grader([*command, "--config", str(config)], timeout)
    return json.loads(output), seconds


def batch(folder: Path, config: Path, jobs: int, timeout: float) -> tuple[list[dict], float]:
    """The gradebook rows of a class graded in strict isolation, and the seconds it took."""
    output = folder.parent / f"{config.stem}-grades.csv"
    command = grader_command(
        "batch",
        str(folder),
        "--output",
        str(output),
        "--jobs",
        str(jobs),
        "--isolation",
        "strict",
        "--config",
        str(config),
    )
    _, seconds = run_grader(command, timeout)
    with open(output, newline="") as gradebook:
        return list(csv.DictReader(gradebook)), seconds


def course_variant(source: Path, devices: list[str], folder: Path) -> Path:
    """The course at source, on these devices, a required GPU counting, in strict isolation;
    written into folder (the boilerplate paths made absolute, as they are relative to the
    config's folder)."""
    import yaml

    data = yaml.safe_load(source.read_text())
    data["devices"] = devices
    data["gpu"] = "required"
    data["isolation"] = "strict"
    similarity = data.setdefault("similarity", {})
    paths = similarity.get("boilerplate", ["exercises", "solutions"])
    paths = [paths] if isinstance(paths, str) else paths
    similarity["boilerplate"] = [str(source.resolve().parent / p) for p in paths]
    path = folder / f"course-{'-'.join(devices)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def wrong_device_submission(solutions: Path, folder: Path) -> Path:
    """A copy of solutions whose corr2d makes its result in CPU memory (WRONG_DEVICE_CORR2D)."""
    folder.mkdir(parents=True)
    replaced = False
    for source in sorted(solutions.iterdir()):
        if source.suffix != ".py":
            if source.is_file():
                shutil.copyfile(source, folder / source.name)
            continue
        text = source.read_text()
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and node.name == "corr2d":
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = text.splitlines(keepends=True)
                text = "".join(
                    [*lines[: first - 1], WRONG_DEVICE_CORR2D, *lines[node.end_lineno :]]
                )
                replaced = True
                break
        (folder / source.name).write_text(text)
    if not replaced:
        raise CheckFailed(f"{solutions}: no file defines corr2d")
    return folder


def class_of_copies(solutions: Path, folder: Path, copies: int) -> Path:
    """copies submissions, each a copy of the solutions folder."""
    for number in range(copies):
        shutil.copytree(solutions, folder / f"student{number:02d}")
    return folder


# -- what the reports must show ------------------------------------------------------------------


def every_test(report: dict) -> list[tuple[str, dict]]:
    return [(e["name"], t) for e in report["exercises"] for t in e["tests"]]


def devices_of(report: dict) -> str:
    return ", ".join(sorted({t["device"] for _, t in every_test(report)}))


def score_of(report: dict) -> str:
    return f"{report['score']:g}/{report['max_score']:g}"


def full_marks_on_every_device(report: dict, gpus: int) -> Expectation:
    gpu_tests = [t for _, t in every_test(report) if t["device"] != "cpu"]
    devices = {t["device"] for t in gpu_tests}
    held = (
        report["score"] == report["max_score"] > 0
        and len(devices) == gpus
        and all(t["status"] == "passed" for t in gpu_tests)
    )
    detail = f"{score_of(report)}, {len(gpu_tests)} GPU tests on {', '.join(sorted(devices))}"
    return Expectation(f"the solutions get full marks on the CPU and {gpus} GPU(s)", held, detail)


def full_marks(report: dict) -> Expectation:
    return Expectation(
        "the solutions get full marks on the CPU alone",
        report["score"] == report["max_score"] > 0,
        score_of(report),
    )


def nothing_for_stubs(report: dict) -> Expectation:
    return Expectation("the stubs score 0", report["score"] == 0, score_of(report))


def caught_on_the_gpu_only(report: dict) -> Expectation:
    """Every CPU test passes; every GPU test of corr2d fails, one saying 'created on cpu'."""
    tests = every_test(report)
    cpu_failed = [t["name"] for _, t in tests if t["device"] == "cpu" and t["status"] != "passed"]
    corr2d_gpu = [t for name, t in tests if name == "corr2d" and t["device"] != "cpu"]
    said = any("created on cpu" in t["message"].lower() for t in corr2d_gpu)
    lost = sorted({name for name, t in tests if t["device"] != "cpu" and t["status"] != "passed"})
    held = (
        not cpu_failed
        and bool(corr2d_gpu)
        and all(t["status"] != "passed" for t in corr2d_gpu)
        and said
    )
    detail = (
        f"{score_of(report)}; GPU tests lost in {', '.join(lost) or 'none'}; "
        f"CPU tests failed: {', '.join(cpu_failed) or 'none'}; "
        f"'created on cpu' {'said' if said else 'not said'}"
    )
    said_lines = [
        line.strip()
        for t in corr2d_gpu
        for line in t["message"].splitlines()
        if "created on" in line.lower()
    ]
    if said_lines:
        detail += f"; corr2d says: {said_lines[0][:200]}"
    return Expectation(
        "a corr2d that makes its result on the CPU fails its GPU tests only", held, detail
    )


def whole_class_full_marks(rows: list[dict], copies: int, devices: str) -> Expectation:
    full = [r for r in rows if r.get("status") == "ok" and float(r["total"]) == float(r["max"])]
    return Expectation(
        f"every copy in the batch on {devices} gets full marks",
        len(rows) == copies and len(full) == copies,
        f"{len(full)} of {len(rows)} rows (expected {copies})",
    )


# -- the table -----------------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "-"


def render_table(
    rows: list[Row],
    one_submission: tuple[float, float],
    per_submission: tuple[float, float],
    copies: int,
    start: tuple[float, float],
) -> str:
    """The Markdown table and the ratios; the pairs are (all devices, CPU only) seconds, and
    start is (import torch, import torch and start CUDA) seconds."""
    lines = ["| what | devices | score | seconds |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.devices} | {r.score} | {r.seconds:.2f} |" for r in rows]
    (all_one, cpu_one), (all_each, cpu_each) = one_submission, per_submission
    imported, started = start
    lines += [
        "",
        f"- GPU/CPU, one submission (solutions, all devices / CPU only): "
        f"{ratio(all_one, cpu_one)} ({all_one:.2f} s / {cpu_one:.2f} s)",
        f"- GPU/CPU per submission, a batch of {copies}: {ratio(all_each, cpu_each)} "
        f"({all_each:.2f} s / {cpu_each:.2f} s per submission)",
        f"- CUDA start per process: {started - imported:.2f} s (a fresh `import torch` "
        f"{imported:.2f} s; with `torch.zeros(1, device='cuda'); torch.cuda.synchronize()` "
        f"{started:.2f} s)",
    ]
    return "\n".join(lines) + "\n"


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "no message"


# -- the whole check -----------------------------------------------------------------------------


def check(args: argparse.Namespace, gpus: int, scratch: Path) -> tuple[str, list[Expectation]]:
    expectations: list[Expectation] = []
    rows: list[Row] = []
    print(f"{gpus} GPU(s); starting CUDA in the sandbox ...", file=sys.stderr, flush=True)
    probe, probe_seconds = sandbox_probe(args.config)
    print(f"the sandbox probe: {json.dumps(probe)}", file=sys.stderr, flush=True)
    print("timing CUDA's start ...", file=sys.stderr, flush=True)
    start = cuda_start_cost(args.repeat)
    expectations.append(
        Expectation(
            "CUDA starts in the sandbox and sees every GPU",
            probe["gpus"] == gpus,
            f"{probe['gpus']} GPU(s), {probe['name']}, VmData {probe['VmData']}",
        )
    )
    rows.append(Row("bare probe: CUDA's start in the sandbox", "cuda:0", "-", probe_seconds))
    every_device = course_variant(args.config, ["cpu", "gpu"], scratch)
    cpu_only = course_variant(args.config, ["cpu"], scratch)

    gradings: list[tuple[str, Path, str, Callable[[dict], Expectation]]] = [
        (
            "`solutions/pytorch`",
            args.solutions,
            "all",
            lambda r: full_marks_on_every_device(r, gpus),
        ),
        ("`solutions/pytorch`", args.solutions, "cpu", full_marks),
        ("`exercises/pytorch` (the stubs)", args.exercises, "all", nothing_for_stubs),
        (
            "corr2d's result made on the CPU",
            wrong_device_submission(args.solutions, scratch / "wrong-device"),
            "all",
            caught_on_the_gpu_only,
        ),
    ]
    solutions_seconds: dict[str, float] = {}  # device -> seconds, for the ratio
    for what, submission, device, expect in gradings:
        print(f"grading {what} on {device} ...", file=sys.stderr, flush=True)
        report, took = grade(submission, device, every_device, args.timeout)
        expectations.append(expect(report))
        rows.append(Row(what, devices_of(report), score_of(report), took))
        if submission == args.solutions:
            solutions_seconds[device] = took

    folder = class_of_copies(args.solutions, scratch / "class", args.copies)
    each: dict[str, float] = {}
    for label, config in (("cpu", cpu_only), ("all", every_device)):
        print(f"batch of {args.copies} on {label} ...", file=sys.stderr, flush=True)
        gradebook, took = batch(folder, config, args.jobs, args.timeout)
        devices = "cpu" if label == "cpu" else "cpu, every GPU"
        expectations.append(whole_class_full_marks(gradebook, args.copies, devices))
        rows.append(Row(f"batch of {args.copies} copies, --jobs {args.jobs}", devices, "-", took))
        each[label] = took / args.copies
    one = (solutions_seconds["all"], solutions_seconds["cpu"])
    table = render_table(rows, one, (each["all"], each["cpu"]), args.copies, start)
    return table, expectations


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    try:
        gpus = count_gpus()
        from grader.isolation import bubblewrap_problem

        problem = bubblewrap_problem()
        if problem is not None:
            raise CannotRun(f"strict isolation is not available: {problem}")
        with tempfile.TemporaryDirectory(prefix="gpu-check-") as scratch:
            table, expectations = check(args, gpus, Path(scratch))
    except CannotRun as error:
        print(f"gpu-check: {error}", file=sys.stderr)
        return CANNOT_RUN
    except CheckFailed as error:
        print(f"gpu-check: FAILED: {error}", file=sys.stderr)
        return EXPECTATION_FAILED
    print(table)
    for expectation in expectations:
        print(expectation.line())
    return 0 if all(e.held for e in expectations) else EXPECTATION_FAILED


if __name__ == "__main__":
    sys.exit(main())
