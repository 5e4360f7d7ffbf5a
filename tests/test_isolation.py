"""What the worker can and cannot see and do, observed from inside real sandboxes."""

import json
import os
import resource
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SOLUTIONS, small_config, write

from grader import isolation
from grader.isolation import (
    GRADER_PACKAGE,
    Isolation,
    ResourceLimits,
    apply_resource_limits,
    bubblewrap_command,
    bubblewrap_problem,
    driver_libraries,
    gpu_device_binds,
    gpu_driver_paths,
    gpu_environment,
    ldconfig_libraries,
    read_only_paths,
    unprivileged_uid,
)
from grader.sandbox import Sandbox
from grader.submission import read_submission

PROBE = """
import json, os, resource, socket
from mxnet import np
def corr2d(X, K):
    facts = {
        "uid": os.getuid(),
        "limits": {name: resource.getrlimit(getattr(resource, name))[0]
                   for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE",
                                "RLIMIT_CPU")},
        "capabilities": [l.split()[1] for l in open("/proc/self/status")
                         if l.startswith("CapEff")][0],
        "root": sorted(os.listdir("/")),
        "processes": len([p for p in os.listdir("/proc") if p.isdigit()]),
        "solutions": os.path.exists(SOLUTIONS) or os.path.exists(CONFIG),
        "package_writable": os.access(PACKAGE, os.W_OK),
        "cwd": os.getcwd(),
        "listing": sorted(os.listdir(".")),
    }
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        facts["network"] = "reached"
    except OSError as error:
        facts["network"] = type(error).__name__
    print("FACTS" + json.dumps(facts))
    return X
"""


def facts_from_inside(tmp_path, isolation: Isolation) -> dict:
    text = (
        f"SOLUTIONS, CONFIG = {str(SOLUTIONS)!r}, {str(ROOT / 'config.yaml')!r}\n"
        f"PACKAGE = {str(GRADER_PACKAGE)!r}\n" + PROBE
    )
    path = write(tmp_path, "probe.py", text)
    limits = replace(small_config().limits, memory_bytes=3 * 2**30, processes=50)
    with Sandbox(read_submission(path), ["corr2d"], limits, isolation) as sandbox:
        sandbox.load()
        result = sandbox.call(
            "corr2d",
            {"X": np.ones((2, 2), np.float32), "K": np.ones((1, 1), np.float32)},
            {},
            "cpu",
            10,
        )
    assert result.status == "returned", result.message
    return json.loads(result.output.split("FACTS", 1)[1])


def test_bubblewrap_works_here():
    assert bubblewrap_problem() is None


def test_the_strict_sandbox_shows_only_what_the_worker_needs(tmp_path):
    facts = facts_from_inside(tmp_path, Isolation("strict"))
    assert facts["solutions"] is False and facts["package_writable"] is False
    assert facts["cwd"] == "/submission" and facts["listing"] == ["probe.py"]
    bound_roots = {path.parts[1] for path in read_only_paths()}
    system_roots = {"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "submission", "tmp", "usr"}
    assert set(facts["root"]) <= system_roots | bound_roots
    assert facts["network"] in ("OSError", "ConnectionRefusedError", "gaierror")
    assert facts["processes"] <= 3, "its own PID namespace: init, the worker, the exercise"
    if os.geteuid() == 0:
        assert facts["uid"] == unprivileged_uid() and facts["capabilities"] == "0000000000000000"


@pytest.mark.parametrize("mode", ["strict", "basic"])
def test_resource_limits_apply_in_both_modes(tmp_path, mode):
    limits = facts_from_inside(tmp_path, Isolation(mode))["limits"]
    assert limits == {
        "RLIMIT_AS": 3 * 2**30,
        "RLIMIT_NPROC": 50,
        "RLIMIT_FSIZE": 64 * 2**20,
        "RLIMIT_NOFILE": 256,
        "RLIMIT_CPU": 300 + 60,
    }


def test_read_only_binds_hold_no_part_of_the_project_but_the_grader_package():
    for path in read_only_paths():
        assert (
            path == GRADER_PACKAGE
            or ROOT not in (path, *path.parents)
            or path.is_relative_to(sys.prefix)  # .venv, or .venv-3.X for PYTHON=python3.X
        ), path


def run_without_bubblewrap(code: str) -> subprocess.CompletedProcess:
    """A fresh interpreter whose PATH has no bwrap in it."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/nonexistent"},
        timeout=120,
    )


def test_without_bubblewrap_auto_falls_back_to_basic_and_says_why():
    done = run_without_bubblewrap(
        "from grader.isolation import choose_isolation\n"
        "i = choose_isolation('auto'); print(i.mode, '|', i.note)\n"
        "try:\n    choose_isolation('strict')\n"
        "except Exception as e:\n    print(type(e).__name__, '|', e)\n"
    )
    auto, strict = done.stdout.splitlines()
    assert (
        auto == "basic | isolation is basic because bubblewrap is not installed "
        "(Debian: apt-get install bubblewrap)"
    )
    assert strict.startswith("IsolationUnavailable | strict isolation is not available")


def test_the_cli_refuses_strict_without_bubblewrap():
    done = run_without_bubblewrap(
        "import sys; from grader.cli import main; "
        "sys.exit(main(['grade', 'solutions', '--isolation', 'strict']))"
    )
    assert done.returncode == 2 and "strict isolation is not available" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_python_named_by_a_relative_path_still_grades_strictly(tmp_path):
    """`../.venv/bin/python -m grader check` from another folder: Python keeps the `..` in
    sys.executable, through folders the sandbox does not hold, so the worker must be started
    by the normalized path."""
    relative = os.path.relpath(sys.executable, tmp_path)
    assert relative.startswith("..")
    done = subprocess.run(
        [relative, "-m", "grader", "check", str(SOLUTIONS), "--only", "corr2d"]
        + ["--isolation", "strict"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "[pass] corr2d" in done.stdout


# -- GPUs in the sandbox -------------------------------------------------------------------------

FAKE_GPU_NODES = ["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-caps/nvidia-cap1"]
FAKE_OTHER_NODES = ["sda", "null", "fuse", "nvme0n1"]


def fake_dev(tmp_path: Path) -> Path:
    """A /dev of plain files, each holding its own name: NVIDIA's nodes and others."""
    dev = tmp_path / "dev"
    for name in FAKE_GPU_NODES + FAKE_OTHER_NODES:
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        (dev / name).write_text(name)
    return dev


def fake_libraries(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)
    return folder


def inside_sandbox(tmp_path: Path, code: str, gpu: bool) -> dict:
    """What code (printing one JSON line) prints in a real bubblewrap sandbox."""
    workdir = tmp_path / f"submission-{gpu}"
    workdir.mkdir()
    command = bubblewrap_command(
        [sys.executable, "-I", "-c", code], workdir, unprivileged_uid(), gpu=gpu
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


LOOK_AROUND = """
import errno, json, os
def listing(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else None
def read(path):
    try:
        return open(path).read()
    except OSError as error:
        return errno.errorcode[error.errno]
def append(path):
    try:
        open(path, "a").close()
        return "written"
    except OSError as error:
        return errno.errorcode[error.errno]
print(json.dumps({
    "dev": listing("/dev"),
    "caps": listing("/dev/nvidia-caps"),
    "root": listing("/"),
    "pci": listing("/sys/bus/pci") is not None,
    "pci_write": append("/sys/bus/pci/rescan"),
    "nvidia1": read("/dev/nvidia1"),
    "library": read(LIBRARY),
    "library_write": append(LIBRARY),
}))
"""


def look_around(tmp_path: Path, gpu: bool, library: Path | None = None) -> dict:
    code = f"LIBRARY = {str(library or '/nonexistent')!r}\n" + LOOK_AROUND
    return inside_sandbox(tmp_path, code, gpu)


def test_gpu_device_binds_are_the_nvidia_nodes_cuda_opens_and_nothing_else(tmp_path):
    dev = fake_dev(tmp_path)
    assert gpu_device_binds(dev) == sorted(dev / name for name in FAKE_GPU_NODES)
    assert gpu_device_binds(tmp_path / "empty") == []


def test_driver_libraries_are_the_cuda_driver_and_nvidia_libraries_only(tmp_path):
    driver = [
        "libcuda.so.580.95.05",
        "libnvidia-ml.so.1",
        "libnvidia-ptxjitcompiler.so.580.95.05",
        "libcudadebugger.so.1",
    ]
    toolkit_and_others = ["libcudart.so.12", "libcublas.so.12", "libc.so.6", "notes.txt"]
    folder = fake_libraries(tmp_path / "lib64", driver + toolkit_and_others)
    (folder / "libcuda.so.1").symlink_to("libcuda.so.580.95.05")
    found = driver_libraries([folder])
    assert sorted(p.name for p in found) == sorted([*driver, "libcuda.so.1"])


def test_gpu_driver_paths_leave_out_what_the_sandbox_binds_anyway(tmp_path, monkeypatch):
    unbound = fake_libraries(tmp_path / "opt" / "lib64", ["libcuda.so.1", "libnvidia-ml.so.1"])
    bound = fake_libraries(tmp_path / "env" / "lib", ["libnvidia-gpucomp.so.1"])
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{unbound}:{bound}")
    monkeypatch.setattr(isolation, "read_only_paths", lambda: [tmp_path / "env"])
    paths = gpu_driver_paths()
    libraries = [p for p in paths if p.name.startswith("lib")]
    assert libraries == [unbound / "libcuda.so.1", unbound / "libnvidia-ml.so.1"]
    assert [p for p in paths if p not in libraries] == [
        p for p in (Path("/sys/bus/pci"), Path("/sys/devices")) if p.exists()
    ] + sorted(Path("/sys/module").glob("nvidia*"))
    roots = isolation.sandbox_roots()
    assert not any(p.is_relative_to(root) for p in paths for root in roots)


def test_the_gpu_environment_is_the_gpu_choice_and_the_drivers_folder(tmp_path, monkeypatch):
    driver = fake_libraries(tmp_path / "nvidia", ["libcuda.so.1"])
    other = fake_libraries(tmp_path / "other", ["libfoo.so"])
    for name in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "LD_LIBRARY_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert gpu_environment() == {}
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{other}:{driver}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    monkeypatch.setenv("GRADER_SEED", "secret")
    assert gpu_environment() == {"CUDA_VISIBLE_DEVICES": "1", "LD_LIBRARY_PATH": str(driver)}


def test_the_loaders_cache_is_read_from_ldconfig():
    libc = [path for path in ldconfig_libraries() if path.name == "libc.so.6"]
    assert libc and all(path.exists() for path in libc)


def split_gpu_arguments(plain: list[str], with_gpu: list[str]) -> list[str]:
    """The arguments with_gpu holds beyond plain, checked to be one block inserted whole."""
    start = next(i for i, (a, b) in enumerate(zip(plain, with_gpu)) if a != b)
    extra = len(with_gpu) - len(plain)
    assert with_gpu[:start] == plain[:start] and with_gpu[start + extra :] == plain[start:]
    return with_gpu[start : start + extra]


def test_without_gpu_the_command_is_unchanged_and_gpu_adds_only_the_binds(tmp_path, monkeypatch):
    dev = fake_dev(tmp_path)
    library = fake_libraries(tmp_path / "driver", ["libcuda.so.1"]) / "libcuda.so.1"
    monkeypatch.setattr(isolation, "HOST_DEVICES", dev)
    monkeypatch.setattr(isolation, "gpu_driver_paths", lambda: [library])
    argv, workdir = [sys.executable, "-c", "pass"], tmp_path
    plain = bubblewrap_command(argv, workdir, 100_001)
    assert bubblewrap_command(argv, workdir, 100_001, gpu=False) == plain
    assert not [a for a in plain if "nvidia" in a or a.startswith(("/sys", "--dev-bind"))]
    assert plain[plain.index("--dev") + 1] == "/dev" and "--bind" in plain

    block = split_gpu_arguments(plain, bubblewrap_command(argv, workdir, 100_001, gpu=True))
    binds = [tuple(block[i : i + 3]) for i, a in enumerate(block) if a.endswith("-bind-try")]
    assert binds == [
        *(("--dev-bind-try", str(dev / name), f"/dev/{name}") for name in sorted(FAKE_GPU_NODES)),
        ("--ro-bind-try", str(library), str(library)),
    ]
    folders = [block[i + 1] for i, a in enumerate(block) if a == "--dir"]
    assert "/dev/nvidia-caps" in folders and str(library.parent) in folders


@pytest.mark.skipif(bool(gpu_device_binds()), reason="this machine has NVIDIA device nodes")
def test_a_gpu_sandbox_on_a_machine_without_gpus_has_only_bubblewraps_dev(tmp_path):
    plain = look_around(tmp_path, gpu=False)
    with_gpu = look_around(tmp_path, gpu=True)
    assert with_gpu["dev"] == plain["dev"] and not any("nvidia" in n for n in plain["dev"])
    assert "sys" not in plain["root"]
    if Path("/sys/bus/pci").exists():  # the driver's sysfs, readable and read-only
        assert with_gpu["pci"] is True and with_gpu["pci_write"] in ("EROFS", "EACCES")


def test_bound_gpu_nodes_appear_in_the_sandbox_and_nothing_else_of_dev(tmp_path, monkeypatch):
    dev = fake_dev(tmp_path)
    library = fake_libraries(tmp_path / "driver", ["libcuda.so.1"]) / "libcuda.so.1"
    library.chmod(0o666)  # only the read-only bind can refuse the write
    defaults = look_around(tmp_path, gpu=False)["dev"]
    monkeypatch.setattr(isolation, "HOST_DEVICES", dev)
    monkeypatch.setattr(isolation, "gpu_driver_paths", lambda: [library])
    facts = look_around(tmp_path, gpu=True, library=library)
    assert facts["dev"] == sorted(
        {*defaults, "nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"} | {"nvidia-caps"}
    )
    assert facts["caps"] == ["nvidia-cap1"]
    assert facts["nvidia1"] == "nvidia1"  # the host's node, bound where CUDA looks for it
    assert facts["library"] == "libcuda.so.1" and facts["library_write"] == "EROFS"


MEMORY_PROBE = """
import json, mmap, resource
facts = {
    "data": resource.getrlimit(resource.RLIMIT_DATA)[0],
    "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
}
def attempt(name, make):
    try:
        make()
        facts[name] = "ok"
    except (OSError, MemoryError) as error:
        facts[name] = type(error).__name__
# What CUDA does when it starts: reserve a huge range with no access, and map shared memory.
attempt("reserve_64_gib", lambda: mmap.mmap(-1, 64 << 30, flags=mmap.MAP_PRIVATE, prot=0))
attempt("shared_1_gib", lambda: mmap.mmap(-1, 1 << 30))
# What student code does: arrays in the process's own memory.
attempt("allocate_128_mib", lambda: bytearray(128 << 20))
attempt("allocate_1_gib", lambda: bytearray(1 << 30))
print(json.dumps(facts))
"""


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "data",  # with a GPU: CUDA's mappings pass, memory of the process's own is bounded
            {"reserve_64_gib": "ok", "shared_1_gib": "ok", "allocate_1_gib": "MemoryError"},
        ),
        (
            "address_space",  # without: the same limit refuses CUDA's reservation
            {
                "reserve_64_gib": "OSError",
                "shared_1_gib": "OSError",
                "allocate_1_gib": "MemoryError",
            },
        ),
    ],
)
def test_the_memory_limit_a_child_gets_and_what_it_counts(kind, expected):
    limit = 512 * 2**20
    limits = ResourceLimits(60, limit, 2**20, 64, 64, memory_kind=kind)
    done = subprocess.run(
        [sys.executable, "-I", "-c", MEMORY_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: apply_resource_limits(limits),
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    unlimited = resource.RLIM_INFINITY
    assert (facts["data"], facts["address_space"]) == (
        (limit, unlimited) if kind == "data" else (unlimited, limit)
    )
    assert {name: facts[name] for name in expected} == expected
    assert facts["allocate_128_mib"] == "ok"  # the limit leaves room for ordinary work
