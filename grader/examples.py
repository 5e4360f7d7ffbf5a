"""The smallest failing example: a small input that fails the way a test did, shown in full.

Hidden inputs may not be shown, and public ones can be large. So when a test fails, the grader
tries small inputs that anyone may see, smallest first, and keeps the first one that fails the
same way (same status, same diagnosis, same exception). They are drawn with the hidden-case
generators from a fixed public seed, the same for every student, and are never scored: a hidden
case is shrunk to a size and content that may be shown, never shown itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from grader.cases import EXERCISES, Case, Oracle
from grader.checks import Verdict
from grader.sandbox import SandboxResult

EXAMPLE_SEED = 20240101  # public on purpose: examples are shown in full
EXAMPLE_VISIBILITY = "example"
CANDIDATES = 48  # drawn per exercise; the smallest MAX_TRIES of them are tried
MAX_TRIES = 12
REAL_TRIES = 4  # of MAX_TRIES, with real values
SECONDS_PER_TRY = 2.0
SECONDS_PER_EXERCISE = 4.0  # no try starts after this: graded work must not wait on examples
NOT_SHRUNK = ("learn_kernel",)  # each try would train a model; its public case is small


@dataclass(frozen=True)
class Fingerprint:
    """How a test failed, independent of its input's size and values."""

    status: str
    diagnosis: str
    error: str  # the exception's type, for a call that raised


def fingerprint(verdict: Verdict, result: SandboxResult) -> Fingerprint | None:
    """The failure's fingerprint, or None where a smaller input would teach nothing: a pass,
    a timeout, a missing name, or an answer that is not an array of numbers at all."""
    if verdict.status not in ("failed", "error"):
        return None
    if result.status == "returned" and result.array is not None:
        return Fingerprint(verdict.status, verdict.diagnosis, "")
    if result.status == "raised":
        return Fingerprint(verdict.status, verdict.diagnosis, result.message.split(":")[0])
    return None


@dataclass
class Failures:
    """An exercise's failures so far: the first one's fingerprint (the one to reproduce), and
    for each fingerprint the smallest public input that already shows it."""

    first: Fingerprint | None = None
    shown: dict[Fingerprint, int] = field(default_factory=dict)

    def record(self, failure: Fingerprint, case: Case) -> None:
        self.first = self.first or failure
        if case.public:
            self.shown[failure] = min(self.shown.get(failure, size(case)), size(case))

    def smallest_shown(self) -> int:
        """An example must be smaller than this to be worth showing."""
        return self.shown.get(self.first, 2**62)


def size(case: Case) -> int:
    """How big an input looks when printed: its number of values (or of pixels, for shapes)."""
    if "input_shape" in case.params:
        return int(np.prod(case.params["input_shape"]))
    return sum(int(v.size) for v in case.inputs.values())


def whole_numbers(case: Case) -> bool:
    return all(np.array_equal(v, np.round(v)) for v in case.inputs.values())


def example_cases(exercise: str, oracle: Oracle) -> tuple[Case, ...]:
    """Small cases that may be shown: whole numbers first (easier to read), then real values
    (integer truncation shows only on those); smallest first within each."""
    if exercise in NOT_SHRUNK:
        return ()
    rng = np.random.default_rng([EXAMPLE_SEED, zlib.crc32(exercise.encode())])
    drawn = sorted(EXERCISES[exercise].hidden_cases(rng, CANDIDATES, oracle), key=size)
    whole = [case for case in drawn if whole_numbers(case)]
    real = [case for case in drawn if not whole_numbers(case)]
    chosen = whole[: MAX_TRIES - REAL_TRIES] + real[:REAL_TRIES]
    return tuple(replace(case, name="example", visibility=EXAMPLE_VISIBILITY) for case in chosen)


Try = Callable[[Case, np.ndarray, float], tuple[Verdict, SandboxResult]]


def smallest_failing_example(
    target: Fingerprint,
    candidates: tuple[Case, ...],
    expected: tuple[np.ndarray, ...],
    smaller_than: int,
    run: Try,
    budget_seconds: float = SECONDS_PER_EXERCISE,
) -> tuple[Case, np.ndarray, Verdict, SandboxResult] | None:
    """The first candidate, smaller than smaller_than, that fails like target; run(case,
    expected, time_limit) judges one. Stops when the budget is spent, and at a timeout or a
    crash: the student's code is then too slow or too broken to probe."""
    left = budget_seconds
    for case, wanted in zip(candidates, expected):
        if size(case) >= smaller_than:
            continue
        if left <= 0:
            break
        verdict, result = run(case, wanted, SECONDS_PER_TRY)
        left -= result.seconds
        if result.status in ("timeout", "crashed"):
            break
        if fingerprint(verdict, result) == target:
            return case, wanted, verdict, result
    return None
