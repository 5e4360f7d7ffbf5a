"""How the worker process is confined: bubblewrap where it works, rlimits everywhere.

strict: bubblewrap (`bwrap`) gives the worker its own PID, network, IPC and UTS namespaces, a
  root file system that holds only read-only binds of the system libraries, the Python
  installation, the virtual environment and the grader package, a private /tmp, and the copy
  of the submission. When the grader runs as root the worker drops to an unprivileged uid of
  its own (so RLIMIT_NPROC applies and nothing root-owned is writable) with no capabilities.
basic: a plain child process in its own process group, with the same rlimits. Used where
  bubblewrap is missing or not permitted (macOS, containers without namespaces); the report
  says `isolation: basic`.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_SUBMISSION = Path("/submission")
SANDBOX_TMP = Path("/tmp")
UNPRIVILEGED_UID_BASE = 100_000
GRADER_PACKAGE = Path(__file__).resolve().parent
SYSTEM_PATHS = (
    "/usr",
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/fonts",  # matplotlib (the book's d2l.plt) asks fontconfig for the fonts
)
USR_MERGE_LINKS = {"/lib": "usr/lib", "/lib64": "usr/lib64", "/bin": "usr/bin", "/sbin": "usr/sbin"}


class IsolationUnavailable(RuntimeError):
    """Strict isolation was asked for, but bubblewrap cannot run here."""


@dataclass(frozen=True)
class ResourceLimits:
    cpu_seconds: int
    memory_bytes: int | None  # address space; None where GPUs are used (CUDA maps a lot)
    file_bytes: int
    processes: int
    open_files: int


def apply_resource_limits(limits: ResourceLimits) -> None:
    """Runs in the child between fork and exec; the limits pass to everything it starts."""
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CORE, 0),
    ]
    if limits.memory_bytes is not None:
        pairs.append((resource.RLIMIT_AS, limits.memory_bytes))
    for kind, value in pairs:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def read_only_paths() -> list[Path]:
    """What the worker needs to run: Python, the environment, and the grader package only."""
    paths = {
        Path(sys.base_prefix),
        Path(sys.prefix),
        GRADER_PACKAGE,
        Path(os.path.realpath(sys.executable)).parent,
    }
    return sorted(p for p in paths if p.exists() and not str(p).startswith("/usr/"))


def bubblewrap_command(argv: list[str], workdir: Path, uid: int | None) -> list[str]:
    """argv wrapped in bwrap; workdir is mounted read-write as /submission."""
    command = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--tmpfs",
        str(SANDBOX_TMP),
    ]
    command += ["--perms", "0755", "--dir", "/etc"]  # readable by the unprivileged uid
    for path in SYSTEM_PATHS:
        command += ["--ro-bind-try", path, path]
    for link, target in USR_MERGE_LINKS.items():
        if Path(link).is_symlink():
            command += ["--symlink", target, link]
        else:
            command += ["--ro-bind-try", link, link]
    created: set[Path] = set()
    for path in read_only_paths():
        for parent in reversed(path.parents[:-1]):  # bwrap would make them 0700
            if parent not in created:
                command += ["--perms", "0755", "--dir", str(parent)]
                created.add(parent)
        command += ["--ro-bind", str(path), str(path)]
    command += ["--bind", str(workdir), str(SANDBOX_SUBMISSION), "--chdir", str(SANDBOX_SUBMISSION)]
    command.append("--")
    if uid is not None:
        command += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
    return command + argv


def unprivileged_uid() -> int | None:
    """A uid of the worker's own when the grader is root (RLIMIT_NPROC counts per uid and
    never applies to root); None when the grader is already unprivileged."""
    if os.geteuid() != 0:
        return None
    return UNPRIVILEGED_UID_BASE + os.getpid() % 50_000


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why strict isolation cannot be used here, or None if it can (probed once)."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux, this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    uid = unprivileged_uid()
    if uid is not None and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing, so the worker cannot drop root"
    probe = bubblewrap_command([sys.executable, "-I", "-c", "pass"], Path("/tmp"), uid)
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap did not run: {error}"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap is not permitted here: {reason}"
    return None


@dataclass(frozen=True)
class Isolation:
    """The mode in force for one grading run, and why, if it is weaker than asked."""

    mode: str  # "strict" or "basic"
    note: str | None = None

    @property
    def strict(self) -> bool:
        return self.mode == "strict"


def choose_isolation(requested: str) -> Isolation:
    """auto: strict where possible, else basic with a note; strict: refuse to go without."""
    if requested == "basic":
        return Isolation("basic")
    problem = bubblewrap_problem()
    if problem is None:
        return Isolation("strict")
    if requested == "strict":
        raise IsolationUnavailable(f"strict isolation is not available: {problem}")
    return Isolation("basic", f"isolation is basic because {problem}")
