"""How the worker process is confined: bubblewrap where it works, rlimits everywhere.

strict: bubblewrap (`bwrap`) gives the worker its own PID, network, IPC and UTS namespaces, a
  root file system that holds only read-only binds of the system libraries, the Python
  installation, the virtual environment and the grader package, a private /tmp, and the copy
  of the submission. When the grader runs as root the worker drops to an unprivileged uid of
  its own (so RLIMIT_NPROC applies and nothing root-owned is writable) with no capabilities.
  With GPU tests it also gets the NVIDIA device nodes and the driver's files, nothing else of
  /dev, and its memory limit counts data instead of address space (see MEMORY_RLIMITS).
basic: a plain child process in its own process group, with the same rlimits. Used where
  bubblewrap is missing or not permitted (macOS, containers without namespaces); the report
  says `isolation: basic`.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
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

# What CUDA opens in /dev: the control node, one node per GPU, unified memory (and its tools
# node, which the CUDA tools open), modesetting where the driver has it, and the MIG
# capability nodes. Nothing else of the host's /dev is bound.
HOST_DEVICES = Path("/dev")
GPU_DEVICE_NODES = re.compile(r"nvidia(\d+|ctl|-uvm|-uvm-tools|-modeset)")
GPU_CAPABILITIES = "nvidia-caps"
# The driver's user-space half: the CUDA driver, NVML (libnvidia-ml), the PTX JIT and the
# other libnvidia-* libraries libcuda loads, and the debugger's. The toolkit's libraries
# (cudart, cuBLAS, cuDNN) come with the framework's wheels, inside the bound environment.
DRIVER_LIBRARIES = ("libcuda.so*", "libcudadebugger.so*", "libnvidia-*.so*")
DRIVER_FOLDERS = (
    "/usr/lib/*-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib64",
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/local/cuda*/compat",
)
# What the driver reads outside /dev and the libraries. /proc/driver/nvidia (the driver's
# parameters and GPU list) is in the sandbox's own /proc already. NVML and CUDA read each
# GPU's PCI attributes and NUMA placement in sysfs: /sys/bus/pci/devices holds links into
# /sys/devices, so both are needed; /sys/module/nvidia* holds the driver's version and
# parameters. All read-only: nothing in them is a secret of the grader's.
DRIVER_SYSFS = ("/sys/bus/pci", "/sys/devices", "/sys/module/nvidia*")
# Variables of the grader's environment that decide which GPUs and which driver the worker
# gets; the worker's environment is otherwise scrubbed.
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")


class IsolationUnavailable(RuntimeError):
    """Strict isolation was asked for, but bubblewrap cannot run here."""


# Which rlimit bounds the worker's memory. address_space (RLIMIT_AS) counts every mapping.
# CUDA reserves terabytes of address space for unified addressing when it starts (PROT_NONE,
# nothing behind it), so no CUDA process starts under it. data (RLIMIT_DATA, enforced on
# mmap since Linux 4.7) counts private writable mappings only: the heap, numpy arrays and
# tensors in host memory are counted, CUDA's reservations and its shared mappings of the
# device nodes are not. Neither bounds memory on the GPU itself.
MEMORY_RLIMITS = {"address_space": resource.RLIMIT_AS, "data": resource.RLIMIT_DATA}


@dataclass(frozen=True)
class ResourceLimits:
    cpu_seconds: int
    memory_bytes: int | None  # None: no memory limit
    file_bytes: int
    processes: int
    open_files: int
    memory_kind: str = "address_space"  # a key of MEMORY_RLIMITS; "data" where GPUs are used


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
        pairs.append((MEMORY_RLIMITS[limits.memory_kind], limits.memory_bytes))
    for kind, value in pairs:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def worker_python() -> str:
    """The interpreter the worker runs: this one, by an absolute path without `..` (the
    sandbox holds only the environment's own folders, so `tests/../.venv/bin/python` would
    not resolve there). Not resolved through links: a venv's python is a link to its base
    interpreter, and only the link's path keeps the venv."""
    return os.path.normpath(os.path.abspath(sys.executable))


def read_only_paths() -> list[Path]:
    """What the worker needs to run: Python, the environment, and the grader package only."""
    paths = {
        Path(sys.base_prefix),
        Path(sys.prefix),
        GRADER_PACKAGE,
        Path(os.path.realpath(sys.executable)).parent,
    }
    return sorted(p for p in paths if p.exists() and not str(p).startswith("/usr/"))


def gpu_device_binds(dev: Path = HOST_DEVICES) -> list[Path]:
    """The NVIDIA device nodes under dev that CUDA opens, those that exist; [] without a GPU."""
    nodes = [path for path in dev.glob("nvidia*") if GPU_DEVICE_NODES.fullmatch(path.name)]
    capabilities = dev / GPU_CAPABILITIES
    if capabilities.is_dir():
        nodes += [path for path in capabilities.iterdir() if not path.is_dir()]
    return sorted(nodes)


def ldconfig_libraries() -> list[Path]:
    """The libraries in the dynamic loader's cache (`ldconfig -p`); [] where it cannot be read."""
    program = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None
    )
    if program is None:
        return []
    try:
        listing = subprocess.run([program, "-p"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [Path(line.split(" => ", 1)[1]) for line in listing.splitlines() if " => " in line]


def library_path_folders() -> list[Path]:
    """The grader's LD_LIBRARY_PATH, as folders."""
    return [Path(p) for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p]


def library_search_folders() -> list[Path]:
    """Where the driver's libraries may be: the grader's LD_LIBRARY_PATH, the folders the
    loader's cache names for them, then the usual folders (each once, in that order)."""
    folders = library_path_folders()
    folders += [
        path.parent
        for path in ldconfig_libraries()
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in DRIVER_LIBRARIES)
    ]
    for pattern in DRIVER_FOLDERS:
        folders += sorted(Path("/").glob(pattern.lstrip("/")))
    return list(dict.fromkeys(folders))


def driver_libraries(folders: list[Path]) -> list[Path]:
    """The driver's libraries in these folders (links and the files they name)."""
    found: dict[Path, None] = {}
    for folder in folders:
        for pattern in DRIVER_LIBRARIES:
            for path in sorted(folder.glob(pattern)):
                found[path] = None
                found[Path(os.path.realpath(path))] = None
    return [path for path in found if path.is_file()]


def sandbox_roots() -> list[Path]:
    """What bubblewrap_command binds from the host anyway."""
    return [Path(p) for p in (*SYSTEM_PATHS, *USR_MERGE_LINKS)] + read_only_paths()


def gpu_driver_paths() -> list[Path]:
    """The driver's libraries the sandbox would not have otherwise (those outside /usr and
    the other bound paths), then the parts of sysfs the driver reads."""
    roots = sandbox_roots()
    libraries = [
        path
        for path in driver_libraries(library_search_folders())
        if not any(path.is_relative_to(root) for root in roots)
    ]
    sysfs = [path for pattern in DRIVER_SYSFS for path in sorted(Path("/").glob(pattern[1:]))]
    return libraries + sysfs


def gpu_environment() -> dict[str, str]:
    """What the worker's environment needs to see the GPUs the grader sees: the grader's
    choice of GPUs, and the folders of its LD_LIBRARY_PATH that hold the driver's libraries
    (the loader looks there before its cache, so the worker loads the driver the grader
    loads)."""
    environment = {name: os.environ[name] for name in GPU_VARIABLES if name in os.environ}
    folders = [str(f) for f in library_path_folders() if driver_libraries([f])]
    if folders:
        environment["LD_LIBRARY_PATH"] = ":".join(dict.fromkeys(folders))
    return environment


def gpu_arguments(dev: Path, driver_paths: list[Path], created: set[Path]) -> list[str]:
    """bwrap arguments binding the device nodes under dev (as /dev/...) and the driver's paths
    (read-only, where they are); created holds the folders made so far."""
    arguments: list[str] = []
    created.add(Path("/dev"))  # bwrap's own --dev
    for node in gpu_device_binds(dev):
        inside = Path("/dev") / node.relative_to(dev)
        arguments += folders_for(inside, created)
        arguments += ["--dev-bind-try", str(node), str(inside)]
    for path in driver_paths:
        arguments += folders_for(path, created)
        arguments += ["--ro-bind-try", str(path), str(path)]
    return arguments


def folders_for(path: Path, created: set[Path]) -> list[str]:
    """bwrap arguments making the parents of path that are not in created yet, readable by
    all (bwrap would make them 0700); adds them to created."""
    arguments: list[str] = []
    for parent in reversed(path.parents[:-1]):
        if parent not in created:
            arguments += ["--perms", "0755", "--dir", str(parent)]
            created.add(parent)
    return arguments


def bubblewrap_command(
    argv: list[str], workdir: Path, uid: int | None, gpu: bool = False
) -> list[str]:
    """argv wrapped in bwrap; workdir is mounted read-write as /submission. With gpu, the
    NVIDIA device nodes and the driver's files are bound in too (see gpu_device_binds and
    gpu_driver_paths); the rest of the host's /dev stays out."""
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
        command += folders_for(path, created)
        command += ["--ro-bind", str(path), str(path)]
    if gpu:
        command += gpu_arguments(HOST_DEVICES, gpu_driver_paths(), created)
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
    probe = bubblewrap_command([worker_python(), "-I", "-c", "pass"], Path("/tmp"), uid)
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
