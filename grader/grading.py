"""Grade one submission: config -> cases -> sandboxed calls -> verdicts -> one Report."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from grader import frameworks
from grader.array_api import DESCRIPTIONS, ND, NP, edition_note
from grader.cases import EXERCISES, Case, cases_for
from grader.checks import NOT_IMPLEMENTED, comparison, judge
from grader.config import CourseConfig, ExerciseConfig
from grader.examples import (
    SECONDS_PER_EXERCISE,
    Failures,
    Fingerprint,
    example_cases,
    fingerprint,
    smallest_failing_example,
)
from grader.isolation import choose_isolation
from grader.names import NearMiss, near_misses, seems_to_be
from grader.oracle import NumpyOracle
from grader.policy import Violation, calls, violations
from grader.report import PRINTED_WHILE_LOADING, ExerciseResult, Report, TestResult
from grader.sandbox import LoadResult, Sandbox, WorkerPool
from grader.scoring import award, discriminating
from grader.submission import Submission, read_submission

DEVICE_CHOICES = ("cpu", "gpu", "all", "simulated")
SIMULATED_GPU = "sim0"  # a second device on the CPU that stands in for a GPU (see frameworks)
SIMULATED_NOTE = {
    "mxnet": "the [gpu0, simulated] tests ran on MXNet's context cpu(1) standing in for a GPU: "
    "they check that results stay on the input's device, not CUDA itself",
    "pytorch": "the [gpu0, simulated] tests ran on the CPU with tensors tagged as on a GPU "
    "(PyTorch has no second CPU device): they check that results stay on the input's device, "
    "not CUDA itself",
}
KEPT_FOR_GRADING = 0.2  # the share of a submission's time limit that examples never use


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cpu", "gpu0", ..., "sim0" (simulated); "gpu" when there is none to run on
    skip_reason: str | None = None
    counted: bool = True  # whether its tests count toward max_score

    @property
    def simulated(self) -> bool:
        return self.device == SIMULATED_GPU

    @property
    def label(self) -> str:
        """How tests name the device: the simulated GPU says it is one."""
        return "gpu0, simulated" if self.simulated else self.device


def plan_devices(config: CourseConfig, choice: str | None, gpus: int) -> list[DevicePlan]:
    """The devices to run every case on; a missing GPU is skipped, or an error if required.
    `simulated` runs the GPU path on a second CPU device: everything but CUDA itself."""
    choice = choice or ("all" if "gpu" in config.devices else "cpu")
    if choice == "simulated":
        return [DevicePlan("cpu"), DevicePlan(SIMULATED_GPU)]
    framework = frameworks.NAMES[config.framework]
    plans = [DevicePlan("cpu")] if choice in ("cpu", "all") else []
    if choice in ("gpu", "all"):
        if gpus:
            plans += [DevicePlan(f"gpu{i}") for i in range(gpus)]
        elif config.gpu == "required":
            plans.append(
                DevicePlan(
                    "gpu",
                    "the course requires GPU tests (gpu: required) but "
                    f"{framework} sees no GPU on this machine",
                )
            )
        else:
            plans.append(DevicePlan("gpu", f"no GPU: {framework} sees none on this machine", False))
    return plans


@dataclass(frozen=True)
class ExercisePlan:
    config: ExerciseConfig
    cases: tuple[Case, ...]
    expected: tuple[np.ndarray, ...]
    proves: tuple[bool, ...]  # per case: whether passing it shows computing (scoring.py)


@functools.lru_cache(maxsize=4)
def plan_exercises(config: CourseConfig, seed: int) -> tuple[ExercisePlan, ...]:
    """Every exercise's cases and expected values. The same for every submission graded with
    this config and seed, so a batch process computes them once (they are never modified)."""
    oracle = NumpyOracle()
    plans = []
    for exercise in config.exercises:
        tolerance = (exercise.tolerance.rtol, exercise.tolerance.atol)
        cases = cases_for(
            exercise.name,
            exercise.public_cases,
            exercise.hidden_cases,
            seed,
            oracle,
            tolerance,
            frameworks.backend(config.framework).initial_weight_bound,
        )
        expected = tuple(EXERCISES[exercise.name].expected(case, oracle) for case in cases)
        proves = tuple(discriminating(c, e, exercise.tolerance) for c, e in zip(cases, expected))
        plans.append(ExercisePlan(exercise, tuple(cases), expected, proves))
    return tuple(plans)


@functools.cache
def example_plan(exercise: str) -> tuple[tuple[Case, ...], tuple[np.ndarray, ...]]:
    """An exercise's small showable inputs and their answers; made on its first failure only
    (a correct submission never pays for them), then kept for the process's life."""
    oracle = NumpyOracle()
    examples = example_cases(exercise, oracle)
    return examples, tuple(EXERCISES[exercise].expected(case, oracle) for case in examples)


def grade_exercise(
    plan: ExercisePlan,
    devices: list[DevicePlan],
    sandbox: Sandbox,
    loaded: LoadResult,
    violation: Violation | None = None,
    near_miss: NearMiss | None = None,
) -> ExerciseResult:
    exercise, spec = plan.config, EXERCISES[plan.config.name]
    api = sandbox.apis.of(exercise.name) if sandbox else NP
    counted = sum(d.counted for d in devices) * len(plan.cases)
    share = exercise.points / counted if counted else 0.0
    defined_at = loaded.defined.get(exercise.name)
    given_up: dict[str, str] = {}  # device -> why the rest of this exercise is not run there
    tests, evidence = [], []
    failures = Failures()
    for case, expected, proves in zip(plan.cases, plan.expected, plan.proves, strict=True):
        for device in devices:
            evidence.append(proves)
            output, seconds, diagnosis, compared = "", 0.0, "", None
            if device.skip_reason:
                status, message = ("error" if device.counted else "skipped"), device.skip_reason
            elif loaded.failure:
                status, message = loaded.failure_status, f"not run: {loaded.failure}"
            elif defined_at is None:
                status = "failed"
                message = (
                    near_miss.message()
                    if near_miss
                    else f"{exercise.name} is not defined in the submission"
                )
            elif violation is not None:
                status, message = "failed", violation.message()
            elif device.device in given_up:
                status, message = given_up[device.device]
            else:
                result = sandbox.call(
                    exercise.name,
                    case.inputs,
                    case.params,
                    device.device,
                    exercise.time_limit_seconds,
                )
                verdict = judge(
                    spec,
                    case,
                    expected,
                    result,
                    exercise.tolerance_on(device.device),
                    device.device,
                    api,
                    sandbox.framework,
                )
                status, message = verdict.status, verdict.message
                output, seconds = result.output, result.seconds
                diagnosis = verdict.diagnosis
                if status != "passed":  # heatmaps are drawn for problems only
                    compared = comparison(spec, case, expected, result)
                failure = fingerprint(verdict, result) if device.device == "cpu" else None
                if failure is not None:
                    failures.record(failure, case)
                if result.status in ("timeout", "crashed"):
                    what = "timed out" if result.status == "timeout" else "crashed the worker"
                    given_up[device.device] = (status, f"not run: {case.name} {what}")
            tests.append(
                TestResult(
                    name=f"{case.name} [{device.label}]",
                    status=status,
                    score=share if status == "passed" else 0.0,
                    max_score=share if device.counted else 0.0,
                    message=message,
                    device=device.device,
                    visibility=case.visibility,
                    output=output,
                    seconds=seconds,
                    diagnosis=diagnosis,
                    comparison=compared,
                )
            )
    example = None
    if failures.first is not None:
        example = failing_example(plan, sandbox, failures.first, failures.smallest_shown())
    tests = award(tests, evidence, exercise.credit)
    return ExerciseResult(exercise.name, tests, defined_at, example=example, api=api)


def failing_example(
    plan: ExercisePlan, sandbox: Sandbox, target: Fingerprint, smaller_than: int
) -> TestResult | None:
    """The smallest input that may be shown and fails like target, as an unscored test."""
    exercise, spec = plan.config, EXERCISES[plan.config.name]
    api = sandbox.apis.of(exercise.name)
    kept = KEPT_FOR_GRADING * sandbox.limits.submission_seconds
    budget = min(SECONDS_PER_EXERCISE, sandbox.seconds_left() - kept)
    if budget <= 0:
        return None

    def run(case: Case, expected: np.ndarray, seconds: float):
        seconds = min(seconds, exercise.time_limit_seconds)
        result = sandbox.call(exercise.name, case.inputs, case.params, "cpu", seconds)
        verdict = judge(
            spec, case, expected, result, exercise.tolerance, "cpu", api, sandbox.framework
        )
        return verdict, result

    examples, answers = example_plan(exercise.name)
    found = smallest_failing_example(target, examples, answers, smaller_than, run, budget)
    if found is None:
        return None
    case, expected, verdict, result = found
    return TestResult(
        name=case.name,
        status=verdict.status,
        score=0.0,
        max_score=0.0,
        message=verdict.message,
        device="cpu",
        visibility=case.visibility,
        output=result.output,
        seconds=result.seconds,
        diagnosis=verdict.diagnosis,
        comparison=comparison(spec, case, expected, result),
    )


def identity_notes(
    results: list[ExerciseResult], plans: tuple[ExercisePlan, ...], sandbox: Sandbox
) -> list[ExerciseResult]:
    """A definition that passes nothing but gives another exercise's answer to that
    exercise's first public example is said to be that exercise (`corr2d` holding the
    multi-channel version). Only array functions called as f(X, K) are compared."""
    by_name = {plan.config.name: plan for plan in plans}
    alike = [
        name
        for name, plan in by_name.items()
        if EXERCISES[name].call == f"{name}(X, K)" and any(c.public for c in plan.cases)
    ]

    def answers(exercise: str, other: str) -> bool:
        plan = by_name[other]
        case, expected = next((c, e) for c, e in zip(plan.cases, plan.expected) if c.public)
        limit = min(plan.config.time_limit_seconds, by_name[exercise].config.time_limit_seconds)
        result = sandbox.call(exercise, case.inputs, case.params, "cpu", limit)
        verdict = judge(
            EXERCISES[other],
            case,
            expected,
            result,
            plan.config.tolerance,
            "cpu",
            framework=sandbox.framework,
        )
        return verdict.status == "passed"

    annotated = []
    for result in results:
        failing = (
            result.name in alike
            and result.defined_at is not None
            and result.count("passed") == 0
            and any(t.status in ("failed", "error") for t in result.tests)
            and any(t.seconds > 0 for t in result.tests)  # its code ran: not a rule broken
            and not any(NOT_IMPLEMENTED in t.message for t in result.tests)
            and sandbox.seconds_left() > KEPT_FOR_GRADING * sandbox.limits.submission_seconds
        )
        note = seems_to_be(result.name, alike, answers) if failing else None
        annotated.append(replace(result, notes=(*result.notes, note)) if note else result)
    return annotated


def dependency_notes(
    results: list[ExerciseResult], config: CourseConfig, submission: Submission | None = None
) -> list[ExerciseResult]:
    """Point a failing exercise at a failing exercise it builds on: fix that one first. With
    the submission, only where its definition really uses that exercise's code."""
    by_name = {r.name: r for r in results}
    annotated = []
    for result in results:
        notes = list(result.notes)
        failing = [t for t in result.tests if t.status not in ("passed", "skipped")]
        if failing and not all(NOT_IMPLEMENTED in t.message for t in failing):
            for used in config.exercise(result.name).uses:
                if submission is not None and not calls(submission, result.name, used):
                    continue
                dependency = by_name[used]
                if dependency.score < dependency.max_score:
                    bad = (
                        len(dependency.tests)
                        - dependency.count("passed")
                        - dependency.count("skipped")
                    )
                    notes.append(
                        f"{result.name} builds on {used}, which fails {bad} of its "
                        f"tests: fix {used} first, this may then pass too"
                    )
        annotated.append(replace(result, notes=tuple(notes)))
    return annotated


MAX_LOAD_ERRORS_SHOWN = 8


def submission_notes(problems: tuple[str, ...], loaded: LoadResult) -> tuple[str, ...]:
    notes = list(problems)
    if loaded.failure:
        notes.append(f"the submission could not be loaded: {loaded.failure}")
    if loaded.unfinished:
        notes.append(
            f"top-level code failed at {loaded.unfinished} places because it calls "
            f"an unfinished exercise (expected until that exercise is done)"
        )
    notes += [
        f"error while loading, at {error} (the code after it still ran)"
        for error in loaded.errors[:MAX_LOAD_ERRORS_SHOWN]
    ]
    if len(loaded.errors) > MAX_LOAD_ERRORS_SHOWN:
        hidden = len(loaded.errors) - MAX_LOAD_ERRORS_SHOWN
        notes.append(f"... and {hidden} more errors while loading")
    notes += list(loaded.notes)
    if loaded.output.strip():
        notes.append(f"{PRINTED_WHILE_LOADING}\n" + loaded.output.rstrip())
    return tuple(notes)


def api_notes(results: list[ExerciseResult]) -> tuple[str, ...]:
    """Which definitions were graded in the legacy nd API (np, the exercises' own, goes
    without saying; every exercise's API is in the JSON report)."""
    legacy = [r.name for r in results if r.defined_at is not None and r.api == ND]
    if not legacy:
        return ()
    return (
        f"{', '.join(legacy)} {'is' if len(legacy) == 1 else 'are'} written in "
        f"{DESCRIPTIONS[ND]}: {'it was' if len(legacy) == 1 else 'they were'} given "
        f"NDArrays and graded in that API",
    )


def uses_gpu(choice: str | None, config: CourseConfig) -> bool:
    """Whether a GPU may be used, judged without importing the framework: the sandbox then
    binds the GPU's device nodes and limits data, not address space (CUDA reserves a lot)."""
    wanted = choice in ("gpu", "all") or (choice is None and "gpu" in config.devices)
    return wanted and any(Path("/dev").glob("nvidia[0-9]*"))


def grade(
    path: Path,
    config: CourseConfig,
    seed: int | None = None,
    device: str | None = None,
    isolation: str | None = None,
    pool: WorkerPool | None = None,
) -> Report:
    """Grade the submission at path. Every configured exercise appears in the report.

    Raises IsolationUnavailable if strict isolation is asked for and cannot be had."""
    return grade_submission(read_submission(path), config, seed, device, isolation, pool)


def grade_submission(
    submission: Submission,
    config: CourseConfig,
    seed: int | None = None,
    device: str | None = None,
    isolation: str | None = None,
    pool: WorkerPool | None = None,
) -> Report:
    """Grade a submission already read (from files, or from a running notebook); with a
    pool, in a fork of its zygote (batch grading)."""
    started = time.monotonic()
    seed = config.seed if seed is None else seed
    confinement = pool.isolation if pool else choose_isolation(isolation or config.isolation)
    names = [exercise.name for exercise in config.exercises]
    broken_rules = violations(submission, config.exercises)
    # A submission without readable code needs no worker; every name is then missing.
    sandbox = (
        Sandbox(
            submission,
            names,
            config.limits,
            confinement,
            pool=pool,
            framework=config.framework,
            gpu=uses_gpu(device, config),
        )
        if submission.sources
        else None
    )
    try:
        # The worker imports the framework in its own process meanwhile; these overlap.
        plans = plan_exercises(config, seed)
        gpus = frameworks.backend(config.framework).gpu_count() if uses_gpu(device, config) else 0
        devices = plan_devices(config, device, gpus)
        loading = time.monotonic()
        loaded = sandbox.load() if sandbox else LoadResult({}, (), 0, (), "")
        load_seconds = time.monotonic() - loading
        misses = near_misses(submission, names)
        results = [
            grade_exercise(
                plan,
                devices,
                sandbox,
                loaded,
                broken_rules.get(plan.config.name),
                misses.get(plan.config.name),
            )
            for plan in plans
        ]
        if sandbox:
            results = identity_notes(results, plans, sandbox)
    finally:
        if sandbox:
            sandbox.close()
    notes = submission_notes(submission.problems, loaded) + api_notes(results)
    mismatch = edition_note(submission, config.framework)
    if mismatch:
        notes = (mismatch, *notes)
    if any(d.simulated for d in devices):
        notes += (SIMULATED_NOTE[config.framework],)
    if confinement.note:
        notes = (confinement.note, *notes)
    return Report(
        submission=submission.name,
        seed=seed,
        exercises=tuple(dependency_notes(results, config, submission)),
        notes=notes,
        isolation=confinement.mode,
        framework=config.framework,
        seconds=time.monotonic() - started,
        load_seconds=load_seconds,
    )
