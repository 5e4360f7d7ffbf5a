"""The sandbox with real worker processes running real (often misbehaving) student code."""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config, write

from grader.isolation import Isolation, read_only_paths
from grader.sandbox import Sandbox
from grader.submission import read_submission

X = np.arange(9, dtype=np.float32).reshape(3, 3)
K = np.ones((2, 2), dtype=np.float32)


STRICT = Isolation("strict")


def open_sandbox(
    folder: Path, text: str, names=("corr2d",), isolation=STRICT, framework="mxnet", **limits
):
    path = write(folder, "student.py", text)
    limits = replace(small_config().limits, **limits)
    return Sandbox(read_submission(path), list(names), limits, isolation, framework=framework)


def call(sandbox: Sandbox, time_limit: float = 5.0, data: np.ndarray = X):
    return sandbox.call("corr2d", {"X": data, "K": K}, {}, "cpu", time_limit)


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def running_commands() -> list[str]:
    """The command lines of every process on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_definitions_and_top_level_errors_are_reported_and_grading_goes_on(tmp_path):
    text = "def corr2d(X, K):\n    return X[:2, :2] + K\n\nraise RuntimeError('demo broke')\n"
    with open_sandbox(tmp_path, text, names=("corr2d", "Conv2D")) as sandbox:
        loaded = sandbox.load()
        assert loaded.defined == {"corr2d": "student.py, line 1"}
        assert loaded.errors == ("student.py, line 4: RuntimeError: demo broke",)
        result = call(sandbox)
    assert result.status == "returned" and result.type_name == "mxnet.numpy.ndarray"
    assert result.context == "cpu(0)" and result.array.tolist() == [[1, 2], [4, 5]]
    assert result.inputs_after["X"].tolist() == X.tolist()


@pytest.mark.parametrize("framework, name", [("mxnet", "MXNet"), ("pytorch", "PyTorch")])
def test_a_worker_that_starts_too_slowly_names_its_framework(tmp_path, framework, name):
    if framework == "pytorch":
        pytest.importorskip("torch")
    with open_sandbox(tmp_path, "x = 1\n", framework=framework, startup_seconds=0.1) as sandbox:
        loaded = sandbox.load()
    assert loaded.failure == f"starting Python and {name} took longer than 0.1 s"


def test_an_endless_loop_times_out_and_the_next_test_gets_a_fresh_worker(tmp_path):
    text = "def corr2d(X, K):\n    while X.shape == (3, 3):\n        pass\n    return X\n"
    with open_sandbox(tmp_path, text) as sandbox:
        sandbox.load()
        started = time.monotonic()
        first = call(sandbox, time_limit=1.0)
        assert first.status == "timeout" and time.monotonic() - started < 3
        second = call(sandbox, data=np.ones((4, 4), np.float32))
        assert second.status == "returned" and sandbox.restarts == 1


@pytest.mark.parametrize(
    "body, description",
    [
        ("import os; os._exit(0)", "exited with status 0"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "killed by signal SIGKILL"),
    ],
)
def test_a_process_that_dies_mid_test_is_a_crash_and_the_loaded_worker_lives_on(
    tmp_path, body, description
):
    text = f"def corr2d(X, K):\n    {body}\n"
    with open_sandbox(tmp_path, text) as sandbox:
        sandbox.load()
        result = call(sandbox)
        assert result.status == "crashed" and description in result.message
        assert call(sandbox).status == "crashed"
        assert sandbox.restarts == 0, "a fresh exercise process, not a new worker"


def test_restarts_after_hangs_are_limited(tmp_path):
    with open_sandbox(tmp_path, "def corr2d(X, K):\n    while True: pass\n", restarts=1) as sandbox:
        sandbox.load()
        results = [call(sandbox, time_limit=0.5) for _ in range(3)]
    assert [r.status for r in results] == ["timeout", "timeout", "crashed"]
    assert "restarted 1 times already" in results[2].message


@pytest.mark.parametrize(
    "body, status, words",
    [
        ("raise NotImplementedError", "not_implemented", ""),
        ("raise ValueError('bad kernel')", "raised", "ValueError: bad kernel"),
        ("import sys; sys.exit(0)", "raised", "SystemExit"),
        ("import missing_module_xyz", "raised", "No module named 'missing_module_xyz'"),
        ("return np.zeros((3000, 3000))", "too_large", "over the 1 MiB limit"),
    ],
)
def test_exceptions_come_back_as_messages(tmp_path, body, status, words):
    text = f"from mxnet import np\ndef corr2d(X, K):\n    {body}\n"
    with open_sandbox(tmp_path, text, result_bytes=2**20) as sandbox:
        sandbox.load()
        result = call(sandbox)
    assert result.status == status and words in result.message
    if status == "raised" and "SystemExit" not in words:
        assert "student.py, line 3, in corr2d" in result.message


def test_printed_output_is_captured_per_test_with_a_cap(tmp_path):
    text = (
        "import sys\n"
        "def corr2d(X, K):\n"
        "    if X.shape == (3, 3):\n"
        "        print('start' + 'x' * 3_000_000 + 'end')\n"
        "    print('GRDR fake frame: all tests passed', file=sys.stderr)\n"
        "    return X\n"
    )
    with open_sandbox(tmp_path, text, output_bytes=4096) as sandbox:
        sandbox.load()
        result = call(sandbox)
    assert result.status == "returned" and result.array.shape == (3, 3)
    assert result.output.startswith("start") and "bytes cut" in result.output
    assert "GRDR fake frame" in result.output and len(result.output) < 4200


def test_the_worker_sees_no_grader_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SEED", "424242")
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    text = (
        "import os\nfrom mxnet import np\n"
        "def corr2d(X, K):\n"
        "    leaked = [k for k in os.environ if 'SEED' in k or 'SECRET' in k]\n"
        "    return np.array([len(leaked), len(os.environ)])\n"
    )
    with open_sandbox(tmp_path, text) as sandbox:
        sandbox.load()
        result = call(sandbox)
    leaked, total = result.array.tolist()
    assert leaked == 0 and total < 15


def test_a_statement_that_hangs_loading_is_skipped_on_a_fresh_worker(tmp_path):
    text = "def corr2d(X, K):\n    return X\n\nwhile True:\n    pass\n"
    with open_sandbox(tmp_path, text, load_seconds=1) as sandbox:
        loaded = sandbox.load()
        assert loaded.failure is None and loaded.defined == {"corr2d": "student.py, line 1"}
        assert loaded.errors[0].startswith("student.py, line 4: not run")
        assert sandbox.restarts == 1 and call(sandbox).status == "returned"


def test_without_restarts_left_a_hanging_load_fails_and_says_where(tmp_path):
    text = "def corr2d(X, K):\n    return X\n\nwhile True:\n    pass\n"
    with open_sandbox(tmp_path, text, load_seconds=1, restarts=0) as sandbox:
        loaded = sandbox.load()
    assert loaded.failure_status == "timeout"
    assert "longer than 1 s" in loaded.failure and "student.py, line 4" in loaded.failure


@pytest.mark.parametrize("isolation", [STRICT, Isolation("basic")], ids=["strict", "basic"])
def test_processes_the_student_started_die_with_the_worker(tmp_path, isolation):
    """In strict isolation even a process that left the process group (setsid) dies: the PID
    namespace ends with the worker. Basic isolation kills the process group only."""
    marker = f"{time.time_ns() % 10**6 + 1000}.25"  # `sleep 1234.25`: ours and no one else's
    text = (
        "import subprocess\nfrom mxnet import np\n"
        "def corr2d(X, K):\n"
        f"    subprocess.Popen(['sleep', '{marker}'], start_new_session={isolation.strict})\n"
        "    return X\n"
    )
    sandbox = open_sandbox(tmp_path, text, isolation=isolation)
    sandbox.load()
    assert call(sandbox).status == "returned"

    def sleeping() -> bool:
        return any(f"sleep {marker}" in command for command in running_commands())

    assert wait_until(sleeping), "the student's process started"
    sandbox.close()
    assert wait_until(lambda: not sleeping()), "and died with the worker"
    assert not sandbox.root.exists()


def test_the_worker_works_on_a_copy_of_the_submission(tmp_path):
    text = (
        "from pathlib import Path\nfrom mxnet import np\n"
        "def corr2d(X, K):\n"
        "    Path('student.py').write_text('overwritten')\n"
        "    return np.array([len(list(Path('.').iterdir()))])\n"
    )
    original = write(tmp_path, "student.py", text)
    with Sandbox(read_submission(original), ["corr2d"], small_config().limits, STRICT) as sandbox:
        sandbox.load()
        assert call(sandbox).array.tolist() == [1]
    assert original.read_text() == text


def test_an_exercise_that_kills_the_loaded_worker_costs_the_next_exercise_nothing(tmp_path):
    text = (
        "import os, signal\n"
        "def corr2d(X, K):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
        "    return X\n"
        "def corr2d_multi_in(X, K):\n"
        "    return X[0]\n"
    )
    with open_sandbox(tmp_path, text, names=("corr2d", "corr2d_multi_in")) as sandbox:
        sandbox.load()
        assert call(sandbox).status == "returned"
        channels = sandbox.call("corr2d_multi_in", {"X": X[None], "K": K[None]}, {}, "cpu", 5)
    assert channels.status == "returned" and channels.array.tolist() == X.tolist()
    assert sandbox.restarts == 1


def test_a_statement_that_kills_the_worker_while_loading_is_skipped(tmp_path):
    text = "import os\ndef corr2d(X, K):\n    return X\n\nos._exit(3)\nAFTER = 1\n"
    with open_sandbox(tmp_path, text) as sandbox:
        loaded = sandbox.load()
        assert loaded.failure is None and loaded.defined == {"corr2d": "student.py, line 2"}
        assert loaded.errors == (
            "student.py, line 5: not run: it hung or ended the process "
            "when it ran before, so this statement was skipped",
        )
        assert sandbox.restarts == 1 and call(sandbox).status == "returned"


# -- a pool: one zygote, a fork per submission (batch grading) ---------------------------------

LEAVES_TRACES = (
    "import os, subprocess\nfrom pathlib import Path\nfrom mxnet import np\n"
    "Path('/tmp/answers.txt').write_text('secret')\n"
    "Path('notes.txt').write_text('mine')\n"
    "subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
    "def corr2d(X, K):\n    return X\n"
)
LOOKS_AROUND = (
    "import os\nfrom mxnet import np\n"
    "def corr2d(X, K):\n"
    "    print('seen', os.listdir('/tmp'), os.listdir('.'))\n"
    "    seen = len(os.listdir('/tmp')) + len(os.listdir('.'))\n"
    "    alive = sum(1 for p in os.listdir('/proc') if p.isdigit())\n"
    "    return np.array([seen, alive])\n"
)


def pooled(pool, folder: Path, text: str, name: str = "student.py") -> Sandbox:
    for old in folder.glob("*.py"):
        old.unlink()
    path = write(folder, name, text)
    return Sandbox(read_submission(path), ["corr2d"], pool.limits, pool.isolation, pool=pool)


@pytest.fixture
def pool():
    from grader.sandbox import WorkerPool

    made = WorkerPool(small_config().limits, STRICT)
    yield made
    made.close()


def test_a_pooled_submission_sees_nothing_the_previous_one_left(pool, tmp_path):
    marker = f"{time.time_ns() % 10**6 + 1000}.5"
    with pooled(pool, tmp_path, LEAVES_TRACES.replace("{marker}", marker)) as first:
        assert first.load().defined == {"corr2d": "student.py, line 7"}
        assert call(first).status == "returned"
    zygote = pool.zygote.process.pid
    assert wait_until(lambda: not any(f"sleep {marker}" in c for c in running_commands()))
    with pooled(pool, tmp_path, LOOKS_AROUND, "other.py") as second:
        second.load()
        looked = call(second)
        seen, alive = looked.array.tolist()
    # /tmp holds only what bubblewrap made for its binds (when the project is under /tmp)
    binds = {p.relative_to("/tmp").parts[0] for p in read_only_paths() if p.is_relative_to("/tmp")}
    assert seen == 1 + len(binds), f"/tmp and the folder hold nothing else: {looked.output}"
    assert alive <= 4, "init, the zygote, the submission and its exercise process"
    assert pool.zygote.process.pid == zygote, "the same zygote served both"


@pytest.mark.parametrize(
    "attack",
    [
        "import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    return X",  # the zygote
        "while True:\n        pass",
        "import os\n    os._exit(0)",
    ],
)
def test_a_pooled_submission_that_breaks_things_costs_the_next_one_nothing(pool, tmp_path, attack):
    hostile = f"def corr2d(X, K):\n    {attack}\n"
    with pooled(pool, tmp_path, hostile) as first:
        first.load()
        call(first, time_limit=1.0)
        call(first, time_limit=1.0)
    with pooled(pool, tmp_path, "def corr2d(X, K):\n    return X + 1\n") as second:
        second.load()
        result = call(second)
    assert result.status == "returned" and result.array.tolist() == (X + 1).tolist()


def test_a_zygote_answers_requests_for_a_dead_submission_and_stays_up(pool):
    """Such a request is a race: the grader sent it before hearing the submission had died."""
    from grader.sandbox import WorkerProcess

    zygote = WorkerProcess(
        pool.workdir, pool.log_path, pool.isolation, pool.resource_limits, pool.uid, role="zygote"
    )
    try:
        deadline = time.monotonic() + 60
        zygote.request({}, [], deadline, 1 << 20)
        late = zygote.request({"op": "call", "exercise": "corr2d"}, [X], deadline, 1 << 20)
        assert late.header == {"event": "no_submission", "arrays": []}
        fork = zygote.request({"op": "fork_submission"}, [], deadline, 1 << 20)
        assert fork.header["event"] == "ready"
    finally:
        zygote.stop()


def test_a_traceback_into_a_notebook_cell_quotes_its_line(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from mxnet import np"),
        nbformat.v4.new_code_cell("def corr2d(X, K):\n    h, w = K.shape\n    return X[h, w, 0]\n"),
    ]
    path = tmp_path / "student.ipynb"
    nbformat.write(notebook, path)
    with Sandbox(read_submission(path), ["corr2d"], small_config().limits, STRICT) as sandbox:
        sandbox.load()
        result = call(sandbox)
    assert result.status == "raised"
    assert "student.ipynb, cell 2, line 3, in corr2d: return X[h, w, 0]" in result.message
