"""What the worker can and cannot see and do, observed from inside real sandboxes."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, SOLUTIONS, small_config, write

from grader.isolation import (
    GRADER_PACKAGE,
    Isolation,
    bubblewrap_problem,
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
