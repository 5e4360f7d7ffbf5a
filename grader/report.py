"""The one report model. Every output format is rendered from it; none computes scores itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATUSES = ("passed", "failed", "error", "timeout", "skipped")
PRINTED_WHILE_LOADING = "printed while loading:"  # starts the note with the load's output


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


@dataclass(frozen=True)
class ExerciseResult:
    name: str
    tests: tuple[TestResult, ...]
    defined_at: str | None  # where the graded definition is, None if missing
    notes: tuple[str, ...] = ()

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
                "notes": list(exercise.notes),
                "tests": [
                    {
                        "name": t.name,
                        "status": t.status,
                        "score": round(t.score, 4),
                        "max_score": round(t.max_score, 4),
                        "message": t.message,
                        "device": t.device,
                        "visibility": t.visibility,
                        "output": t.output,
                        "seconds": round(t.seconds, 4),
                    }
                    for t in exercise.tests
                ],
            }
            for exercise in report.exercises
        ],
    }
