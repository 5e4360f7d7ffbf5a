"""The one report model. Every output format is rendered from it; none computes scores itself."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

STATUSES = ("passed", "failed", "error", "timeout", "skipped")
PRINTED_WHILE_LOADING = "printed while loading:"  # starts the note with the load's output


Grid = tuple  # nested tuples of floats (nan and inf allowed), one level per dimension


@dataclass(frozen=True)
class Comparison:
    """Expected and received values of a test whose input may be shown (for heatmaps)."""

    expected: Grid
    received: Grid

    @staticmethod
    def of(expected: np.ndarray, received: np.ndarray) -> Comparison:
        return Comparison(
            grid_of(np.asarray(expected, np.float64).tolist()),
            grid_of(np.asarray(received, np.float64).tolist()),
        )


def grid_of(value: Any) -> Any:
    """Nested lists as a Grid; null (JSON's stand-in for nan and inf) reads as nan."""
    if isinstance(value, list | tuple):
        return tuple(grid_of(v) for v in value)
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class TestResult:
    name: str
    status: str
    score: float
    max_score: float
    message: str
    device: str
    visibility: str  # "visible" (public case) or "hidden"
    output: str = ""  # what the student's code printed during this test, capped
    seconds: float = 0.0
    diagnosis: str = ""  # the likely mistake, one sentence; safe for hidden cases
    comparison: Comparison | None = None  # public inputs only


@dataclass(frozen=True)
class ExerciseResult:
    name: str
    tests: tuple[TestResult, ...]
    defined_at: str | None  # where the graded definition is, None if missing
    notes: tuple[str, ...] = ()
    example: TestResult | None = None  # the smallest failing input found, shown in full; unscored
    api: str = "np"  # the framework's array API the definition is written in (MXNet: np or nd)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.tests)


@dataclass(frozen=True)
class Report:
    submission: str
    seed: int
    exercises: tuple[ExerciseResult, ...]
    notes: tuple[str, ...]  # about the whole submission: load errors, ignored files, ...
    isolation: str
    framework: str
    seconds: float = 0.0
    load_seconds: float = 0.0  # running the submission's top-level code, restarts included

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)


def json_grid(grid: Grid) -> list:
    """JSON has no nan or inf: those become null."""
    return [
        json_grid(v) if isinstance(v, tuple) else (v if math.isfinite(v) else None) for v in grid
    ]


def test_to_dict(t: TestResult) -> dict[str, Any]:
    document = {
        "name": t.name,
        "status": t.status,
        "score": t.score,  # unrounded: the exercise's score is their sum
        "max_score": t.max_score,
        "message": t.message,
        "device": t.device,
        "visibility": t.visibility,
        "output": t.output,
        "seconds": round(t.seconds, 4),
        "diagnosis": t.diagnosis,
    }
    if t.comparison is not None:
        document["comparison"] = {
            "expected": json_grid(t.comparison.expected),
            "received": json_grid(t.comparison.received),
        }
    return document


def report_to_dict(report: Report) -> dict[str, Any]:
    """The JSON document of `grade --format json`."""
    return {
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "seed": report.seed,
        "isolation": report.isolation,
        "framework": report.framework,
        "notes": list(report.notes),
        "seconds": round(report.seconds, 3),
        "load_seconds": round(report.load_seconds, 3),
        "exercises": [
            {
                "name": exercise.name,
                "score": exercise.score,
                "max_score": exercise.max_score,
                "defined_at": exercise.defined_at,
                "api": exercise.api,
                "notes": list(exercise.notes),
                "tests": [test_to_dict(t) for t in exercise.tests],
                "example": test_to_dict(exercise.example) if exercise.example else None,
            }
            for exercise in report.exercises
        ],
    }


def test_from_dict(document: dict[str, Any]) -> TestResult:
    comparison = document.get("comparison")
    return TestResult(
        name=document["name"],
        status=document["status"],
        score=document["score"],
        max_score=document["max_score"],
        message=document["message"],
        device=document["device"],
        visibility=document["visibility"],
        output=document.get("output", ""),
        seconds=document.get("seconds", 0.0),
        diagnosis=document.get("diagnosis", ""),
        comparison=Comparison(grid_of(comparison["expected"]), grid_of(comparison["received"]))
        if comparison
        else None,
    )


def report_from_dict(document: dict[str, Any]) -> Report:
    """A report read back from its JSON document (batch overviews, resumed batches).

    Raises KeyError or TypeError for a document that is not a report."""
    exercises = tuple(
        ExerciseResult(
            name=e["name"],
            tests=tuple(test_from_dict(t) for t in e["tests"]),
            defined_at=e["defined_at"],
            notes=tuple(e.get("notes", ())),
            example=test_from_dict(e["example"]) if e.get("example") else None,
            api=e.get("api", "np"),
        )
        for e in document["exercises"]
    )
    return Report(
        submission=document["submission"],
        seed=document["seed"],
        exercises=exercises,
        notes=tuple(document.get("notes", ())),
        isolation=document["isolation"],
        framework=document["framework"],
        seconds=document.get("seconds", 0.0),
        load_seconds=document.get("load_seconds", 0.0),
    )
