"""The grader's side of the trust boundary: the worker process that runs one submission.

The worker (grader.worker) gets a copy of the submission, a scrubbed environment, rlimits and,
in strict isolation, a bubblewrap sandbox (grader.isolation). It receives inputs and sends
back answers as plain data (grader.protocol). It loads the submission once, then runs each
exercise's tests in a process of their own, forked from the loaded worker, so that nothing
started during one exercise outlives it. Whatever the student's code does (exiting, hanging,
printing, crashing) ends as a SandboxResult for that test; a worker that hangs or dies is
killed with everything it started and replaced, within the submission's time budget.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader import frameworks, protocol
from grader.array_api import array_apis
from grader.config import Limits
from grader.isolation import (
    GRADER_PACKAGE,
    SANDBOX_TMP,
    Isolation,
    ResourceLimits,
    apply_resource_limits,
    bubblewrap_command,
    gpu_environment,
    unprivileged_uid,
    worker_python,
)
from grader.submission import Submission

BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from grader.worker import main; main(sys.argv)"
# What a zygote says when its submission process has died (possibly after the grader's next
# request was already on its way).
SUBMISSION_GONE = ("submission_exited", "no_submission")
CONTROL_SECONDS = 10  # starting or ending an exercise's process takes milliseconds
FAILED_CALL_KINDS = ("missing", "interface", "not_implemented", "exception", "too_large")


@dataclass(frozen=True, eq=False)
class SandboxResult:
    """What one call of the student's code gave, as plain data. status is one of:
    returned, raised, not_implemented, interface, missing, too_large, timeout, crashed."""

    status: str
    message: str = ""
    type_name: str = ""
    array: np.ndarray | None = None
    context: str | None = None
    inputs_after: dict[str, np.ndarray] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class LoadResult:
    defined: dict[str, str]  # graded name -> where its definition is
    errors: tuple[str, ...]  # "file, line N: Error: message"
    unfinished: int  # errors that only come from calling unfinished stubs
    notes: tuple[str, ...]
    output: str
    failure: str | None = None  # the worker could not load the submission at all
    failure_status: str = "error"  # or "timeout"


def worker_environment(home: Path) -> dict[str, str]:
    """Only what Python needs: no secrets, no seed, no grader settings."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
    }


def send_within(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        _, ready, _ = select.select([], [fd], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise protocol.DeadlineExceeded()
        try:
            view = view[os.write(fd, view[: 1 << 16]) :]
        except BlockingIOError:
            continue
        except BrokenPipeError:
            raise protocol.ChannelClosed("the worker closed its channel") from None


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with status {code}"


def resource_limits(limits: Limits, gpu: bool = False) -> ResourceLimits:
    """With a GPU the memory limit counts data, not address space (see isolation)."""
    return ResourceLimits(
        cpu_seconds=int(limits.submission_seconds + limits.startup_seconds),
        memory_bytes=limits.memory_bytes,
        memory_kind="data" if gpu else "address_space",
        file_bytes=limits.file_bytes,
        processes=limits.processes,
        open_files=limits.open_files,
    )


def copy_submission(submission: Submission, workdir: Path, uid: int | None) -> None:
    """The submission's files, owned by the worker's uid: the only files it may write."""
    for path in submission.files:
        shutil.copyfile(path, workdir / path.name)
    if uid is not None:
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, uid, uid)


class WorkerProcess:
    """One worker process (inside bubblewrap when strict) and its two pipes. Its role is
    "submission" (it loads one submission) or "zygote" (it forks one process per submission,
    see WorkerPool)."""

    def __init__(
        self,
        workdir: Path,
        log_path: Path,
        isolation: Isolation,
        limits: ResourceLimits,
        uid: int | None,
        role: str = "submission",
        framework: str = "mxnet",
        gpu: bool = False,
    ) -> None:
        request_read, self.request_write = os.pipe()
        self.response_read, response_write = os.pipe()
        os.set_blocking(self.request_write, False)
        argv = [
            worker_python(),
            "-I",
            "-c",
            BOOT,
            str(GRADER_PACKAGE.parent),
            str(request_read),
            str(response_write),
            "sweep" if isolation.strict else "group",
            framework,
            role,
        ]
        if isolation.strict:
            argv, cwd, home = bubblewrap_command(argv, workdir, uid, gpu), None, SANDBOX_TMP
        else:
            cwd, home = workdir, workdir.parent
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=worker_environment(home) | (gpu_environment() if gpu else {}),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(request_read, response_write),
                start_new_session=True,
                preexec_fn=lambda: apply_resource_limits(limits),
            )
        os.close(request_read)
        os.close(response_write)
        self.reader = protocol.Reader(self.response_read)

    def request(
        self,
        header: dict[str, Any],
        arrays: list[np.ndarray],
        deadline: float,
        max_bytes: int,
        progress: list[str] | None = None,
    ) -> protocol.Message:
        """Send one request (none if header is empty); return the reply. Progress events
        ("running file, line N") are collected, not returned."""
        if header:
            send_within(self.request_write, protocol.encode(header, arrays), deadline)
        while True:
            message = self.reader.receive(deadline, max_bytes)
            if message.header.get("event") != "running":
                return message
            if progress is not None:
                progress.append(str(message.header.get("where", ""))[:200])

    def stop(self) -> None:
        """Kill the whole process group; in bubblewrap that ends the PID namespace too."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for fd in (self.request_write, self.response_read):
            try:
                os.close(fd)
            except OSError:
                pass

    def exit_description(self) -> str:
        try:  # its channel closes a moment before its exit status can be read
            return describe_exit(self.process.wait(timeout=1))
        except subprocess.TimeoutExpired:
            return describe_exit(None)


class PooledWorker:
    """A submission's process forked from a pool's zygote, seen through WorkerProcess's
    interface. When it dies, the zygote says so on the channel; that reads as a closed channel
    here, as the death of a worker of its own would."""

    def __init__(self, pool: WorkerPool, zygote: WorkerProcess) -> None:
        self.pool, self.zygote = pool, zygote
        self.alive, self.healthy, self.status = True, True, None

    def request(
        self,
        header: dict[str, Any],
        arrays: list[np.ndarray],
        deadline: float,
        max_bytes: int,
        progress: list[str] | None = None,
    ) -> protocol.Message:
        if not header:  # the fork already said it was ready
            return protocol.Message({"event": "ready"})
        try:
            message = self.zygote.request(header, arrays, deadline, max_bytes, progress)
        except protocol.DeadlineExceeded:
            self.healthy = False
            raise
        except protocol.ProtocolError:
            self.alive = self.healthy = False
            raise
        if message.header.get("event") in SUBMISSION_GONE:
            self.alive = False
            self.status = str(message.header.get("status", "stopped"))[:100]
            raise protocol.ChannelClosed("the submission's process ended")
        return message

    def stop(self) -> None:
        """End the submission's process; a hung or broken one takes the zygote with it."""
        if not self.alive:
            if not self.healthy:
                self.pool.restart()
            return
        if self.healthy:
            try:
                reply = self.zygote.request(
                    {"op": "end_submission"}, [], time.monotonic() + CONTROL_SECONDS, 1 << 20
                )
                if reply.header.get("event") == "submission_exited":
                    self.alive = False
                    return
            except (protocol.ProtocolError, protocol.DeadlineExceeded):
                pass
        self.pool.restart()

    def exit_description(self) -> str:
        return self.status or describe_exit(None)


class WorkerPool:
    """A zygote for batch grading: one worker that imported its framework once and forks a
    fresh process for each submission, one at a time. Between submissions the submission folder
    is emptied (here) and the sandbox's private /tmp (by the zygote), and every process the
    last one left is killed; a hung or dead zygote is replaced."""

    def __init__(
        self, limits: Limits, isolation: Isolation, framework: str = "mxnet", gpu: bool = False
    ) -> None:
        self.limits, self.isolation = limits, isolation
        self.framework, self.gpu = framework, gpu
        self.resource_limits = resource_limits(limits, gpu)
        self.uid = unprivileged_uid() if isolation.strict else None
        self.root = Path(tempfile.mkdtemp(prefix="grader-pool-"))
        self.workdir = self.root / "submission"
        self.workdir.mkdir()
        self.log_path = self.root / "output.log"
        self.zygote: WorkerProcess | None = None

    def prepare(self, submission: Submission) -> None:
        for entry in self.workdir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        copy_submission(submission, self.workdir, self.uid)

    def fork(self, deadline: float) -> PooledWorker:
        try:
            if self.zygote is None:
                self.zygote = WorkerProcess(
                    self.workdir,
                    self.log_path,
                    self.isolation,
                    self.resource_limits,
                    self.uid,
                    role="zygote",
                    framework=self.framework,
                    gpu=self.gpu,
                )
                self.zygote.request({}, [], deadline, 1 << 20)  # it has imported its framework
            reply = self.zygote.request({"op": "fork_submission"}, [], deadline, 1 << 20)
            while reply.header.get("event") in SUBMISSION_GONE:  # late news of the last one
                reply = self.zygote.request({}, [], deadline, 1 << 20)
            if reply.header.get("event") != "ready":
                raise protocol.ProtocolError("the zygote did not fork a submission process")
        except (protocol.ProtocolError, protocol.DeadlineExceeded):
            self.restart()
            raise
        return PooledWorker(self, self.zygote)

    def restart(self) -> None:
        if self.zygote is not None:
            self.zygote.stop()
            self.zygote = None

    def close(self) -> None:
        self.restart()
        shutil.rmtree(self.root, ignore_errors=True)


class Sandbox:
    """One submission's worker, restarted after a crash or a hang, within the time budget."""

    def __init__(
        self,
        submission: Submission,
        names: list[str],
        limits: Limits,
        isolation: Isolation,
        pool: WorkerPool | None = None,
        framework: str = "mxnet",
        gpu: bool = False,
    ) -> None:
        """With a pool (batch grading), the submission runs in a fork of the pool's zygote,
        which imported the framework once; without one, in a worker of its own."""
        self.submission, self.names, self.limits = submission, names, limits
        self.isolation, self.pool = isolation, pool
        self.framework, self.gpu = (pool.framework, pool.gpu) if pool else (framework, gpu)
        self.apis = array_apis(submission, names, self.framework)  # each call's inputs' API
        self.resource_limits = resource_limits(limits, self.gpu)
        self.restarts = 0
        self.skipped: list[str] = []  # statements that hung loading, skipped from then on
        self.exercise: str | None = None  # whose process is running now
        self.deadline = time.monotonic() + limits.submission_seconds
        self.worker: WorkerProcess | PooledWorker | None = None
        if pool is not None:
            self.root, self.workdir, self.log_path, self.uid = (
                None,
                pool.workdir,
                pool.log_path,
                pool.uid,
            )
            self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            pool.prepare(submission)
            return
        self.uid = unprivileged_uid() if isolation.strict else None
        self.root = Path(tempfile.mkdtemp(prefix="grader-"))
        self.workdir = self.root / "submission"
        self.workdir.mkdir()
        self.log_path = self.root / "output.log"
        self.log_offset = 0
        copy_submission(submission, self.workdir, self.uid)
        self.worker = self.start_worker()  # it imports the framework meanwhile

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_worker(self) -> WorkerProcess | PooledWorker:
        if self.pool is not None:
            return self.pool.fork(self.within(self.limits.startup_seconds))
        return WorkerProcess(
            self.workdir,
            self.log_path,
            self.isolation,
            self.resource_limits,
            self.uid,
            framework=self.framework,
            gpu=self.gpu,
        )

    def close(self) -> None:
        self.discard_worker()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def discard_worker(self) -> None:
        if self.worker is not None:
            if self.exercise is not None and getattr(self.worker, "healthy", False):
                # A pooled submission process waits on its exercise's process: end that
                # first, so that the zygote can be kept.
                with contextlib.suppress(protocol.ProtocolError, protocol.DeadlineExceeded):
                    self.control("end", "exercise_exited")
            self.worker.stop()
            self.worker = None
        self.exercise = None

    def seconds_left(self) -> float:
        """Of the submission's time limit."""
        return self.deadline - time.monotonic()

    def within(self, seconds: float) -> float:
        """A deadline that many seconds away, but never past the submission's own."""
        return min(self.deadline, time.monotonic() + seconds)

    def new_output(self) -> str:
        """What the student's code printed since the last look, capped: head and tail kept."""
        size = self.log_path.stat().st_size if self.log_path.exists() else 0
        start, self.log_offset = self.log_offset, size
        length, cap = size - start, self.limits.output_bytes
        if length <= 0:
            return ""
        with open(self.log_path, "rb") as log:
            log.seek(start)
            if length <= cap:
                data = log.read(length)
            else:
                head = log.read(cap // 2)
                log.seek(size - cap // 2)
                data = head + f"\n... [{length - cap} bytes cut] ...\n".encode() + log.read()
        return data.decode("utf-8", errors="replace")

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Start the worker and run the submission's top-level code. A statement that hangs or
        kills the worker (a demo calling the student's own endless loop or os._exit) is
        skipped on a restarted worker."""
        while True:
            loaded, hung_at = self.load_once()
            if (
                hung_at is None
                or self.restarts >= self.limits.restarts
                or time.monotonic() >= self.deadline
            ):
                return loaded
            self.skipped.append(hung_at)
            self.restarts += 1

    def load_once(self) -> tuple[LoadResult, str | None]:
        """One attempt; also returns the statement that was running if it hung or died."""
        progress: list[str] = []
        stage = "start"
        try:
            if self.worker is None:
                self.worker = self.start_worker()
            self.worker.request(
                {}, [], self.within(self.limits.startup_seconds), self.limits.result_bytes
            )
            stage = "load"
            reply = self.worker.request(
                self.load_request(),
                [],
                self.within(self.limits.load_seconds),
                self.limits.result_bytes,
                progress,
            ).header
        except protocol.DeadlineExceeded:
            where = f" (still running {progress[-1]})" if progress else ""
            if stage == "start":
                reason = (
                    f"starting Python and {frameworks.NAMES[self.framework]} took longer than "
                    f"{self.limits.startup_seconds:g} s"
                )
            else:
                reason = (
                    f"running the submission's top-level code took longer than "
                    f"{self.limits.load_seconds:g} s{where}"
                )
            return self.failed_load(reason, "timeout"), (progress[-1] if progress else None)
        except protocol.ProtocolError as error:
            where = f" while running {progress[-1]}" if progress else ""
            failed = self.failed_load(
                f"the process running the submission "
                f"{self.worker.exit_description()}{where} ({error})"
            )
            return failed, (progress[-1] if progress and stage == "load" else None)
        reported = [e for e in reply.get("errors", []) if isinstance(e, dict)]
        errors = tuple(
            f"{str(e.get('where'))[:200]}: {str(e.get('error'))[:2000]}"
            for e in reported
            if e.get("unfinished") is not True
        )
        defined = {
            str(k): str(v)[:200]
            for k, v in dict(reply.get("defined", {})).items()
            if k in self.names
        }
        notes = tuple(str(n)[:500] for n in reply.get("notes", []))
        unfinished = len(reported) - len(errors)
        return LoadResult(defined, errors, unfinished, notes, self.new_output()), None

    def load_request(self) -> dict[str, Any]:
        sources = [
            {
                "name": s.name,
                "module_name": s.module_name,
                "cells": [{"label": c.label, "text": c.text} for c in s.cells],
            }
            for s in self.submission.sources
        ]
        return {
            "op": "load",
            "sources": sources,
            "names": self.names,
            "skip": self.skipped,
            "result_bytes": self.limits.result_bytes,
            "api": self.apis.submission,
        }

    def failed_load(self, reason: str, status: str = "error") -> LoadResult:
        self.discard_worker()
        return LoadResult({}, (), 0, (), self.new_output(), failure=reason, failure_status=status)

    # -- running tests ---------------------------------------------------------------------

    def control(self, op: str, expected_event: str) -> None:
        """A begin/end request to the worker; anything unexpected discards it."""
        reply = self.worker.request(
            {"op": op}, [], self.within(CONTROL_SECONDS), self.limits.result_bytes
        )
        if reply.header.get("event") != expected_event:
            raise protocol.ProtocolError(f"expected {expected_event}, got something else")

    def enter_exercise(self, exercise: str) -> SandboxResult | None:
        """Make sure a fresh process forked for this exercise is ready; a result if not."""
        if self.exercise == exercise and self.worker is not None:
            return None
        if self.worker is not None and self.exercise is not None:
            try:
                self.control("end", "exercise_exited")
            except (protocol.ProtocolError, protocol.DeadlineExceeded):
                self.discard_worker()  # the last exercise broke the worker, not this one
            self.exercise = None
        if self.worker is None:
            if self.restarts >= self.limits.restarts:
                return SandboxResult(
                    "crashed",
                    f"not run: the process running your code was "
                    f"restarted {self.restarts} times already",
                )
            self.restarts += 1
            reloaded = self.load()
            if reloaded.failure:
                return SandboxResult("crashed", f"not run: restarting failed: {reloaded.failure}")
        try:
            self.control("begin", "begun")
        except (protocol.ProtocolError, protocol.DeadlineExceeded) as error:
            self.discard_worker()
            return SandboxResult(
                "crashed",
                f"the worker could not start this exercise ({error})",
                output=self.new_output(),
            )
        self.exercise = exercise
        return None

    def call(
        self,
        exercise: str,
        inputs: dict[str, np.ndarray],
        params: dict[str, Any],
        device: str,
        time_limit: float,
    ) -> SandboxResult:
        """Run one test. A timed-out or crashed worker is replaced before the next call."""
        if time.monotonic() >= self.deadline:
            return SandboxResult(
                "timeout",
                f"not run: the submission's time limit of "
                f"{self.limits.submission_seconds:g} s is used up",
            )
        not_ready = self.enter_exercise(exercise)
        if not_ready is not None:
            return not_ready
        header = {
            "op": "call",
            "exercise": exercise,
            "device": device,
            "params": params,
            "input_names": list(inputs),
            "api": self.apis.of(exercise),
        }
        started = time.monotonic()
        deadline = self.within(time_limit)
        try:
            reply = self.worker.request(
                header, list(inputs.values()), deadline, self.limits.result_bytes
            )
        except protocol.DeadlineExceeded:
            self.discard_worker()
            return SandboxResult(
                "timeout",
                f"did not finish within {deadline - started:.3g} s",
                output=self.new_output(),
                seconds=time.monotonic() - started,
            )
        except protocol.ProtocolError as error:
            description = self.worker.exit_description()
            self.discard_worker()
            message = f"the process running your code {description} during this test"
            if not isinstance(error, protocol.ChannelClosed):
                message += f" ({error})"
            return SandboxResult(
                "crashed", message, output=self.new_output(), seconds=time.monotonic() - started
            )
        return self.decode_reply(reply, time.monotonic() - started)

    def decode_reply(self, reply: protocol.Message, seconds: float) -> SandboxResult:
        header, output = reply.header, self.new_output()
        if header.get("event") == "exercise_exited":  # it died; the loaded worker lives on
            self.exercise = None
            status = str(header.get("status", "stopped"))[:100]
            return SandboxResult(
                "crashed",
                f"the process running your code {status} during this test",
                output=output,
                seconds=seconds,
            )
        if header.get("ok") is not True:
            kind = header.get("kind")
            if kind not in FAILED_CALL_KINDS:
                self.discard_worker()
                return SandboxResult(
                    "crashed",
                    "the worker sent a reply it should not send",
                    output=output,
                    seconds=seconds,
                )
            message = str(header.get("message", ""))[:2000]
            trace = str(header.get("traceback", ""))[:2000]
            if kind == "too_large":
                message = (
                    f"returned {header.get('nbytes')} bytes of arrays, over the "
                    f"{self.limits.result_bytes // 2**20} MiB limit"
                )
            status = "raised" if kind == "exception" else kind
            return SandboxResult(
                status, message + (f"\n{trace}" if trace else ""), output=output, seconds=seconds
            )
        names = header.get("input_names", [])
        arrays = reply.arrays
        has_array = header.get("has_array") is True
        if not isinstance(names, list) or len(arrays) != len(names) + has_array:
            self.discard_worker()
            return SandboxResult(
                "crashed",
                "the worker's reply did not match its description",
                output=output,
                seconds=seconds,
            )
        context = header.get("context")
        return SandboxResult(
            "returned",
            type_name=str(header.get("type", ""))[:120],
            array=arrays[0] if has_array else None,
            context=str(context)[:40] if context is not None else None,
            inputs_after=dict(zip((str(n) for n in names), arrays[has_array:])),
            output=output,
            seconds=seconds,
        )
