"""Names a student got slightly wrong: a near miss of a graded name, or a graded name that holds
another exercise. Neither earns anything; both are said, so the fix is a rename, not a hunt.

- A near miss is read from the source: no `corr2d` is defined but a function or class `corr2D`
  is (the same letters but for case and underscores, or nearly the same: `corr2d_muti_in_out`).
  Variables never count: the book's own `conv2d = nn.Conv2D(...)` is no near miss of Conv2D.
- What a definition seems to be is found by calling it: a `corr2d` that fails every test but
  returns `corr2d_multi_in`'s answer to that exercise's public example is the multi-channel
  version under the wrong name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from grader.policy import parsed_cells, top_level_definitions
from grader.submission import Submission

SIMILAR = 0.85  # SequenceMatcher ratio of the names without case and underscores


@dataclass(frozen=True)
class NearMiss:
    exercise: str  # the graded name that is missing
    name: str  # what the submission defines instead
    where: str

    def message(self) -> str:
        return (
            f"no {self.exercise} is defined; did you mean {self.name} ({self.where})? "
            f"It is graded only under the name {self.exercise}"
        )


def folded(name: str) -> str:
    return name.lower().replace("_", "")


def similarity(name: str, other: str) -> float:
    return SequenceMatcher(None, folded(name), folded(other)).ratio()


def near_misses(submission: Submission, names: list[str]) -> dict[str, NearMiss]:
    """For each graded name the source does not define, the closest function or class."""
    definitions = top_level_definitions(parsed_cells(submission))
    callables = {
        name: found[-1]
        for name, found in definitions.items()
        if name not in names
        and any(isinstance(node, ast.FunctionDef | ast.ClassDef) for _, node in found)
    }
    missing = [exercise for exercise in names if exercise not in definitions]
    pairs = sorted(
        (
            (similarity(exercise, name), exercise, name)
            for exercise in missing
            for name in callables
        ),
        reverse=True,
    )
    found: dict[str, NearMiss] = {}
    taken = set()
    for score, exercise, name in pairs:  # each definition is the near miss of one name at most
        if score < SIMILAR:
            break
        if exercise in found or name in taken:
            continue
        label, node = callables[name]
        found[exercise] = NearMiss(exercise, name, f"{label}, line {node.lineno}")
        taken.add(name)
    return found


def seems_to_be(
    exercise: str, others: list[str], answers: Callable[[str, str], bool]
) -> str | None:
    """A note when the definition of exercise gives another exercise's answer to that
    exercise's example; answers(exercise, other) runs the check."""
    for other in others:
        if other != exercise and answers(exercise, other):
            return (
                f"{exercise} seems to be {other}: given {other}'s public example it returns "
                f"{other}'s answer. It is graded as {exercise}; rename it, or write {exercise}"
            )
    return None
