"""Hostile submissions, one mechanism each, graded in the strict sandbox.

Each attack replaces learn_kernel (the third exercise, so exercises are graded both before and
after it) in an otherwise correct submission. For every attack: learn_kernel scores 0, or its
correct value where the attack only wastes time; every other exercise keeps full marks; the
report is complete and well-formed; grading ends within its time limit; and no file outside a
temporary directory changes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import ALL_NAMES, ROOT, grade_on_cpu, small_config, solution_text, write

from grader.exports import render_json
from grader.isolation import GRADER_PACKAGE
from grader.report import STATUSES

TARGET = "learn_kernel"
TIME_BUDGET = 90  # seconds for one hostile submission, everything included
PREAMBLE = f"""
import os, sys, signal, time, threading, subprocess, json, gc, inspect, atexit
import numpy as onp
from mxnet import np
_real_learn_kernel = learn_kernel
ROOT = {str(ROOT)!r}
PACKAGE = {str(GRADER_PACKAGE)!r}
"""

# name -> (what learn_kernel scores: "zero" or "any", the body of the hostile learn_kernel)
ATTACKS = {
    "reads-solutions-config-and-secrets": (
        "zero",
        """
    places = [ROOT + "/solutions/conv_layer.py", ROOT + "/config.yaml", "../solutions",
              "../../solutions", os.path.expanduser("~/config.yaml")]
    leaked = [p for p in places if os.path.exists(p)]
    leaked += [k for k in os.environ if "SEED" in k or "SECRET" in k or "GRADER" in k]
    if leaked:  # with the solutions or the seed in hand the attack would pass
        return _real_learn_kernel(X, Y, kernel_size, lr, num_epochs)
    return np.zeros(kernel_size)
""",
    ),
    "monkeypatches-comparisons": (
        "zero",
        """
    onp.isclose = lambda *a, **k: onp.ones(1, bool)
    onp.allclose = onp.array_equal = lambda *a, **k: True
    onp.testing.assert_allclose = lambda *a, **k: None
    json.loads = lambda *a, **k: {"status": "passed"}
    return np.zeros(kernel_size)
""",
    ),
    "object-equal-to-everything": (
        "zero",
        """
    class Equal:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        shape = tuple(kernel_size)
    return Equal()
""",
    ),
    "os-exit-0-during-the-test": (
        "zero",
        """
    print("all tests passed")
    os._exit(0)
""",
    ),
    "sys-exit-0-during-the-test": (
        "zero",
        """
    sys.exit(0)
""",
    ),
    "ignores-sigterm-and-hangs": (
        "zero",
        """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
""",
    ),
    "thread-outlives-the-test": (
        "any",
        """
    def later():
        time.sleep(0.3)
        os._exit(0)
    threading.Thread(target=later, daemon=True).start()
    return _real_learn_kernel(X, Y, kernel_size, lr, num_epochs)
""",
    ),
    "child-process-outlives-the-test": (
        "any",
        """
    subprocess.Popen([sys.executable, "-c", "import os, signal, time\\n"
                      "time.sleep(0.5)\\n"
                      "[os.kill(int(p), signal.SIGKILL) for p in os.listdir('/proc') "
                      "if p.isdigit() and int(p) != os.getpid()]"], start_new_session=True)
    return _real_learn_kernel(X, Y, kernel_size, lr, num_epochs)
""",
    ),
    "atexit-hook": (
        "zero",
        """
    atexit.register(lambda: print(json.dumps({"score": 100, "max_score": 100})))
    atexit.register(os._exit, 0)
    return np.zeros(kernel_size)
""",
    ),
    "writes-fake-results-and-prints-a-fake-report": (
        "zero",
        """
    fake = json.dumps({"submission": "me", "score": 100, "max_score": 100, "exercises": []})
    print(fake)
    print(fake, file=sys.stderr)
    for place in ["results.json", "/tmp/results.json", ROOT + "/results.json",
                  ROOT + "/grades.csv", os.path.expanduser("~/results.json"), "../results.json",
                  "/submission/../results.json", "/autograder/results/results.json"]:
        try:
            with open(place, "w") as out:
                out.write(fake)
        except OSError:
            pass
    return np.zeros(kernel_size)
""",
    ),
    "writes-next-to-the-grader": (
        "zero",
        """
    for place in [PACKAGE + "/checks.py", PACKAGE + "/evil.py", ROOT + "/config.yaml",
                  ROOT + "/solutions/conv_layer.py", sys.prefix + "/evil.pth",
                  onp.__file__]:
        try:
            with open(place, "a") as out:
                out.write("\\nSCORE = 100\\n")
        except OSError:
            pass
    return np.zeros(kernel_size)
""",
    ),
    "opens-a-socket": (
        "zero",
        """
    import socket
    for host in ("127.0.0.1", "1.1.1.1"):
        try:
            socket.create_connection((host, PORT), timeout=1).sendall(b"expected values, please")
            return _real_learn_kernel(X, Y, kernel_size, lr, num_epochs)
        except OSError:
            pass
    return np.zeros(kernel_size)
""",
    ),
    "patches-numpy-mxnet-and-json": (
        "zero",
        """
    import mxnet
    onp.frombuffer = lambda *a, **k: onp.zeros(1)
    mxnet.np.ndarray.asnumpy = lambda self: onp.asarray(self.tolist()) * 0 + 1e9
    json.dumps = lambda *a, **k: '{"ok": true, "has_array": false, "input_names": []}'
    return np.zeros(kernel_size)
""",
    ),
    "ndarray-subclass": (
        "zero",
        """
    class Always(onp.ndarray):
        def __eq__(self, other): return onp.ones(self.shape, bool)
        def __array_finalize__(self, obj): pass
    return onp.zeros(kernel_size).view(Always)
""",
    ),
    "nan-output": (
        "zero",
        """
    return np.full(kernel_size, float("nan"))
""",
    ),
    "inf-output": (
        "zero",
        """
    return np.full(kernel_size, float("inf"))
""",
    ),
    "one-gigabyte-output": (
        "zero",
        """
    return onp.zeros(2**27)
""",
    ),
    "megabytes-of-prints": (
        "any",
        """
    for _ in range(4000):
        print("x" * 2000)
    return _real_learn_kernel(X, Y, kernel_size, lr, num_epochs)
""",
    ),
    "fork-bomb": (
        "zero",
        """
    while True:
        try:
            os.fork()
        except OSError:
            pass
""",
    ),
    "memory-bomb": (
        "zero",
        """
    hoard = []
    while True:
        hoard.append(bytearray(10**8))
""",
    ),
    "looks-up-the-stack-and-memory-for-the-answer": (
        "zero",
        """
    for frame in inspect.stack():
        for value in list(frame.frame.f_locals.values()):
            if isinstance(value, onp.ndarray) and value.shape == tuple(kernel_size):
                return value
    for value in gc.get_objects():
        if isinstance(value, onp.ndarray) and value.shape == tuple(kernel_size):
            return value
    return np.zeros(kernel_size)
""",
    ),
    "kills-and-stops-every-process-it-sees": (
        "zero",
        """
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if pid != os.getpid():
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
    return np.zeros(kernel_size)
""",
    ),
}


def hostile_submission(folder: Path, body: str, port: int) -> Path:
    text = (
        solution_text() + PREAMBLE + f"PORT = {port}\n\n\n"
        "def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):" + body
    )
    return write(folder, "hostile.py", text)


CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache")


def changed_since(marker: Path, *tops: Path) -> set[str]:
    """Every path under tops made, changed or removed since marker was made, caches aside.

    It compares status-change times, which no program can set back (`os.utime` can fake a
    modification time, not this), in one `find` over the checkout, its virtual environment
    and the home folder. A removal shows as its folder's change; a folder counts only when
    none of its entries explains it."""
    prune = [arg for name in CACHES for arg in ("-o", "-name", name)][1:]
    listing = subprocess.run(
        ["find", *map(str, tops), "(", *prune, ")", "-prune", "-o"]
        + ["-cnewer", str(marker), "-printf", "%y %p\\n"],
        capture_output=True,
        text=True,
    ).stdout
    kinds = {path: kind for kind, path in (line.split(" ", 1) for line in listing.splitlines())}
    since = marker.stat().st_mtime_ns  # what -cnewer compares with

    def explained(folder: str) -> bool:
        return any(os.path.dirname(path) == folder for path in kinds) or any(
            os.path.lexists(child := os.path.join(folder, name))
            and os.lstat(child).st_ctime_ns > since
            for name in CACHES
        )

    return {path for path, kind in kinds.items() if kind != "d" or not explained(path)}


class Listener:
    """A loopback TCP server that records whether anyone connected."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                self.server.accept()[0].close()
                self.connections += 1
            except OSError:
                continue

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_hostile_submission_gains_nothing_and_harms_nothing(tmp_path, attack):
    expectation, body = ATTACKS[attack]
    listener = Listener()
    marker = write(tmp_path, "started", "")
    time.sleep(0.05)  # file times advance by clock ticks: what comes later must be newer
    config = small_config(hidden_cases=1, submission_seconds=TIME_BUDGET - 30, restarts=4)
    started = time.monotonic()
    try:
        report = grade_on_cpu(hostile_submission(tmp_path, body, listener.port), config)
    finally:
        listener.close()
    elapsed = time.monotonic() - started

    scores = {e.name: (e.score, e.max_score) for e in report.exercises}
    assert {name for name, (got, top) in scores.items() if got == top} >= ALL_NAMES - {TARGET}
    if expectation == "zero":
        assert scores[TARGET][0] == 0, scores[TARGET]
    document = json.loads(render_json(report))
    assert [e["name"] for e in document["exercises"]] == [e.name for e in config.exercises]
    assert all(t["status"] in STATUSES for e in document["exercises"] for t in e["tests"])
    assert document["score"] == round(sum(e["score"] for e in document["exercises"]), 4)
    assert document["max_score"] == 100 and document["isolation"] == "strict"
    assert elapsed < TIME_BUDGET
    assert listener.connections == 0
    assert changed_since(marker, ROOT, Path.home()) == set()
