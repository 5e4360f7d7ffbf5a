"""The worker: the only process that runs student code.

It imports the framework (MXNet or PyTorch) once, executes the submission's sources top-level
statement by statement (so one failing statement or cell does not hide the definitions after
it), then answers the grader's requests: call this exercise with these inputs on this device.
Requests and replies travel on two pipes of their own (see protocol), never on stdout, which
belongs to the student.
The worker never sees expected values: whatever it replies is only the student's answer.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import linecache
import math
import os
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_CHARS = 2000


@dataclass
class Definition:
    source: str  # the file it came from
    where: str  # file, cell and line, for messages
    stub: bool
    value: Any


def is_stub(node: ast.AST) -> bool:
    """A definition that still raises NotImplementedError somewhere is an unfinished stub."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Raise) and inner.exc is not None:
            target = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False


def defined_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may itself hold spaces): state, ppid,
    process group, ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def process_group(pid: int) -> int:
    return int(stat_fields(pid)[2])


def ancestors() -> set[int]:
    found, pid = set(), os.getpid()
    while pid > 1:
        pid = int(stat_fields(pid)[1])
        found.add(pid)
    return found


def ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with status {code}"


def die_with_parent_and_refuse_tracing() -> None:
    """A zygote outlives many submissions: it must end with the grader, and the submissions
    forked from it (same uid) must not attach to it with ptrace or /proc/PID/mem."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def assigned_names(statement: ast.stmt) -> set[str]:
    return {
        node.id
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }


def short_error(error: BaseException) -> str:
    """'Type: message', with MXNet's C++ backtrace cut down to its last line."""
    if isinstance(error, SystemExit):
        return f"SystemExit: exit({error.code!r}) was called"
    text = str(error)
    if "Traceback (most recent call last)" in text or len(text.splitlines()) > 8:
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1] if lines else text
    return f"{type(error).__name__}: {text}"[:MAX_MESSAGE_CHARS]


def student_frames(error: BaseException, filenames: set[str]) -> str:
    """The traceback lines that point into the submission, not into the grader or MXNet."""
    cwd = os.getcwd()
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename in filenames or frame.filename.startswith(cwd)
    ]
    lines = [
        f"{os.path.relpath(f.filename, cwd) if f.filename.startswith(cwd) else f.filename}, "
        f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
        for f in frames[-5:]
    ]
    return "\n".join(lines)[:MAX_MESSAGE_CHARS]


class Worker:
    def __init__(
        self, request_fd: int, response_fd: int, sweep_namespace: bool, framework: str = "mxnet"
    ) -> None:
        from grader import book_packages, frameworks, protocol

        self.backend = frameworks.backend(framework)
        self.protocol, self.book = protocol, book_packages
        self.framework = framework
        self.reader = protocol.Reader(request_fd)
        self.response_fd = response_fd
        self.namespace: dict[str, Any] = {}
        self.filenames: set[str] = set()
        self.unfinished_names: set[str] = set()  # left unassigned because a stub raised
        self.skip: set[str] = set()  # statements that hung an earlier load
        self.sweep_namespace = sweep_namespace
        self.role = "submission"  # or "zygote", or "exercise" in a fork
        self.forked = False
        self.result_bytes = 0

    def reply(self, header: dict[str, Any], arrays=()) -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        self.protocol.send(self.response_fd, header, list(arrays))

    def serve(self) -> None:
        self.backend.load()  # the framework, once, before any student code
        if self.role == "zygote":  # what the book's packages import, once for every submission
            self.book.preload(self.framework)
        else:
            self.book.install(self.framework)
        self.backend.keep_gpu_closed()  # this process forks: CUDA only in exercise processes
        sys.path.append(os.getcwd())  # after the real packages: a student's numpy.py shadows none
        self.tmp_at_start = set(os.listdir("/tmp")) if self.sweep_namespace else set()
        self.reply({"event": "ready", "framework": self.backend.FRAMEWORK})
        while True:
            message = self.reader.receive(math.inf, 1 << 30)
            op = message.header.get("op")
            if op == "fork_submission" and self.role == "zygote":
                self.fork_submission_process()
            elif op == "load" and self.role == "submission":
                self.result_bytes = int(message.header["result_bytes"])
                self.skip = set(message.header.get("skip", []))
                self.backend.use_api(message.header.get("api", "np"))
                self.reply(self.load(message.header["sources"], message.header["names"]))
            elif op == "begin" and self.role == "submission":
                self.begin_exercise_process()
            elif op == "call" and self.role == "exercise":
                self.call(message.header, message.arrays)
            elif op in ("end", "end_submission") and self.forked:
                os._exit(0)
            elif self.role == "zygote":
                # Meant for a submission process that has died since: say so, stay up.
                self.reply({"event": "no_submission"})
            else:
                return

    # -- one process per submission (a zygote) and per exercise --------------------------------

    def fork_child(self, role: str) -> int:
        """Fork; the child takes the role and answers the grader from now on, while this
        process waits for it. Returns the child's pid here, 0 in the child."""
        pid = os.fork()
        if pid == 0:
            self.role, self.forked = role, True
        return pid

    def wait_and_clean(self, pid: int, event: str) -> None:
        """Wait for a child to end, kill what it left, and say how it ended. A zygote also
        empties the sandbox's private /tmp for the next submission (sparing bind mounts)."""
        _, status = os.waitpid(pid, 0)
        self.sweep()
        if self.role == "zygote" and self.sweep_namespace:
            for entry in set(os.listdir("/tmp")) - self.tmp_at_start:
                shutil.rmtree(os.path.join("/tmp", entry), ignore_errors=True)
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join("/tmp", entry))
        self.drain_requests()
        self.reply({"event": event, "status": ended(status)})

    def fork_submission_process(self) -> None:
        """A zygote (batch grading) imported the framework once; each submission gets a fresh
        fork."""
        pid = self.fork_child("submission")
        if pid == 0:
            self.reply({"event": "ready", "framework": self.backend.FRAMEWORK})
            return
        self.wait_and_clean(pid, "submission_exited")

    # -- one process per exercise --------------------------------------------------------------

    def begin_exercise_process(self) -> None:
        """Fork a process for one exercise's tests; when it ends, sweep away what it started.

        The fork answers the grader's calls until it is told to end; meanwhile this process
        only waits. Threads and child processes started by the tests die with it, so they
        cannot reach the next exercise.
        """
        pid = self.fork_child("exercise")
        if pid == 0:
            self.backend.open_gpu()  # this process never forks: it may make a CUDA context
            self.reply({"event": "begun"})
            return
        self.wait_and_clean(pid, "exercise_exited")

    def drain_requests(self) -> None:
        """Drop what the exercise process left unread (it may have died mid-request). The
        grader sends nothing new until it hears that the process ended, so all of it is old."""
        fd = self.reader.fd
        os.set_blocking(fd, False)
        try:
            while os.read(fd, 1 << 16):
                pass
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(fd, True)

    def sweep(self) -> None:
        """Kill every other process of our process group and, in a PID namespace of our own
        (strict isolation), every process but this one, its ancestors (a zygote) and init."""
        spared, group = {1, os.getpid(), *ancestors()}, os.getpgid(0)
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in spared:
                continue
            try:
                if not self.sweep_namespace and process_group(int(entry)) != group:
                    continue
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break

    # -- loading -----------------------------------------------------------------------------

    def load(self, sources: list[dict], names: list[str]) -> dict[str, Any]:
        """Execute every source; bind each graded name to its chosen definition."""
        self.namespace = {"__builtins__": builtins, **self.book.notebook_names()}
        definitions: dict[str, list[Definition]] = {name: [] for name in names}
        errors: list[dict[str, str]] = []
        for source in sources:
            self.namespace["__name__"] = source["module_name"]
            for cell in source["cells"]:
                self.run_cell(source["name"], cell, names, definitions, errors)
        notes, defined = [], {}
        for name in names:
            chosen, note = self.choose(name, definitions[name])
            if note:
                notes.append(note)
            if chosen is not None:
                self.namespace[name] = chosen.value
                defined[name] = chosen.where
            elif name in self.namespace:
                defined[name] = "imported"
        return {"event": "loaded", "defined": defined, "errors": errors, "notes": notes}

    def run_cell(
        self,
        source_name: str,
        cell: dict,
        names: list[str],
        definitions: dict[str, list[Definition]],
        errors: list[dict],
    ) -> None:
        label = cell["label"]
        self.filenames.add(label)
        # Tracebacks quote the line: "X.ipynb, cell 3" is no file linecache could read.
        lines = cell["text"].splitlines(keepends=True)
        linecache.cache[label] = (len(cell["text"]), None, lines, label)
        try:
            tree = ast.parse(cell["text"], filename=label)
        except (SyntaxError, ValueError) as error:
            line = getattr(error, "lineno", None)
            where = f"{label}, line {line}" if line else label
            errors.append(
                {
                    "where": where,
                    "error": f"{type(error).__name__}: {error.msg}"
                    if isinstance(error, SyntaxError)
                    else short_error(error),
                }
            )
            return
        for statement in tree.body:
            where = f"{label}, line {statement.lineno}"
            if where in self.skip:
                errors.append(
                    {
                        "where": where,
                        "error": "not run: it hung or ended the process when it ran "
                        "before, so this statement was skipped",
                    }
                )
                continue
            self.reply({"event": "running", "where": where})
            module = ast.Module(body=[statement], type_ignores=[])
            try:
                exec(compile(module, label, "exec"), self.namespace)  # noqa: S102 - the point
            except BaseException as error:  # noqa: BLE001 - student code may raise anything
                unfinished = isinstance(error, NotImplementedError) or (
                    isinstance(error, NameError) and error.name in self.unfinished_names
                )
                if unfinished:
                    self.unfinished_names.update(assigned_names(statement))
                errors.append(
                    {"where": where, "error": short_error(error), "unfinished": unfinished}
                )
                continue
            for name in defined_names(statement):
                if name in definitions:
                    definitions[name].append(
                        Definition(source_name, where, is_stub(statement), self.namespace.get(name))
                    )

    @staticmethod
    def choose(name: str, found: list[Definition]) -> tuple[Definition | None, str | None]:
        """The last finished definition wins; an unfinished stub never replaces a real one.
        Only finished definitions in several files are worth a note: an untouched notebook
        beside the .py a student works in is the usual case, not a surprise."""
        if not found:
            return None, None
        finished = [d for d in found if not d.stub]
        chosen = (finished or found)[-1]
        files = list(dict.fromkeys(d.source for d in finished))
        if len(files) < 2:
            return chosen, None
        return (
            chosen,
            f"{name} is defined in {' and '.join(files)}; grading the one at {chosen.where}",
        )

    # -- calling -----------------------------------------------------------------------------

    def call(self, header: dict[str, Any], arrays: list) -> None:
        exercise = header["exercise"]
        if exercise not in self.namespace:
            self.reply({"ok": False, "kind": "missing"})
            return
        inputs = dict(zip(header["input_names"], arrays))
        started = time.perf_counter()
        try:
            value, after, context = self.backend.call_exercise(
                exercise,
                self.namespace[exercise],
                inputs,
                header["params"],
                header["device"],
                header.get("api", "np"),
            )
            type_name, array = self.backend.plain_result(value)
        except self.backend.WrongInterface as error:
            self.reply({"ok": False, "kind": "interface", "message": str(error)})
            return
        except BaseException as error:  # noqa: BLE001 - student code may raise anything
            kind = "not_implemented" if isinstance(error, NotImplementedError) else "exception"
            self.reply(
                {
                    "ok": False,
                    "kind": kind,
                    "message": short_error(error),
                    "traceback": student_frames(error, self.filenames),
                }
            )
            return
        seconds = time.perf_counter() - started
        header = {
            "ok": True,
            "type": type_name,
            "context": context,
            "seconds": seconds,
            "has_array": array is not None,
            "input_names": list(after),
        }
        out = ([array] if array is not None else []) + list(after.values())
        total = sum(a.nbytes for a in out)
        if total > self.result_bytes:
            self.reply(
                {
                    "ok": False,
                    "kind": "too_large",
                    "nbytes": total,
                    "shape": list(array.shape) if array is not None else None,
                }
            )
            return
        self.reply(header, out)


def main(argv: list[str]) -> None:
    """argv ends with: request fd, response fd, "sweep" (in a PID namespace of its own) or
    "group" (kill only the exercise's process group), the framework, and "zygote" or
    "submission"."""
    request_fd, response_fd, cleanup = int(argv[-5]), int(argv[-4]), argv[-3]
    framework, role = argv[-2], argv[-1]
    worker = Worker(request_fd, response_fd, cleanup == "sweep", framework)
    worker.role = role
    if role == "zygote":
        die_with_parent_and_refuse_tracing()
    try:
        worker.serve()
    finally:
        if worker.forked:  # a forked copy of the framework must not run its shutdown
            os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
