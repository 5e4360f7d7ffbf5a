"""Names an exercise's definition may not use (config: `exercises.NAME.forbidden`).

A teaching rule, checked in the grader on the submission's source text, never by running it:
with `forbidden: [npx.convolution, nn.Conv2D]` on corr2d, corr2d fails if any definition of it
in the submission, or any function of the submission that it calls, refers to either name.
Aliases made by imports are followed (`from mxnet.npx import convolution as conv`). Code built
at run time (exec, getattr with a string) is not seen: this keeps honest students on the
exercise, it is not a security boundary.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.config import ExerciseConfig
from grader.submission import Submission


@dataclass(frozen=True)
class Violation:
    exercise: str
    name: str  # the forbidden name as configured
    where: str  # "conv_layer.py, line 25"

    def message(self) -> str:
        return (
            f"{self.exercise} uses {self.name} ({self.where}); this exercise asks you to "
            f"write it without {self.name}, so its tests were not run"
        )


def dotted(node: ast.AST) -> str | None:
    """`np.random.uniform` for the expression np.random.uniform, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def parsed_cells(submission: Submission) -> list[tuple[str, ast.Module]]:
    trees = []
    for source in submission.sources:
        for cell in source.cells:
            try:
                trees.append((cell.label, ast.parse(cell.text)))
            except (SyntaxError, ValueError):
                continue
    return trees


def import_aliases(trees: list[tuple[str, ast.Module]]) -> dict[str, str]:
    """Local name -> what it stands for, from every import in the submission."""
    aliases = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def top_level_definitions(trees: list[tuple[str, ast.Module]]) -> dict[str, list[tuple]]:
    """name -> [(cell label, node)] for every top-level def, class or assignment."""
    found: dict[str, list[tuple]] = {}
    for label, tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.setdefault(node.name, []).append((label, node))
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append((label, node))
    return found


def refers_to(name: str, forbidden: str, aliases: dict[str, str]) -> bool:
    head, _, rest = name.partition(".")
    expanded = aliases.get(head, head) + (f".{rest}" if rest else "")
    return any(n == forbidden or n.endswith(f".{forbidden}") for n in (name, expanded))


def first_use(
    exercise: ExerciseConfig, definitions: dict[str, list[tuple]], aliases: dict[str, str]
) -> Violation | None:
    """Walk the exercise's definitions and the submission's functions and classes they use
    (not its variables: a demo's `Y = corr2d(X, K)` says nothing about a function using Y)."""
    callables = {
        name
        for name, found in definitions.items()
        if any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for _, node in found
        )
    }
    seen, queue = set(), [exercise.name]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for label, definition in definitions.get(name, []):
            for node in ast.walk(definition):
                if not isinstance(node, (ast.Name, ast.Attribute)):
                    continue
                reference = dotted(node)
                for banned in exercise.forbidden:
                    if reference and refers_to(reference, banned, aliases):
                        where = f"{label}, line {node.lineno}"
                        return Violation(exercise.name, banned, where)
                if isinstance(node, ast.Name) and node.id in callables:
                    queue.append(node.id)
    return None


def violations(
    submission: Submission, exercises: tuple[ExerciseConfig, ...]
) -> dict[str, Violation]:
    """The first forbidden use for each exercise that has one."""
    ruled = [exercise for exercise in exercises if exercise.forbidden]
    if not ruled:
        return {}
    trees = parsed_cells(submission)
    definitions, aliases = top_level_definitions(trees), import_aliases(trees)
    found = {exercise.name: first_use(exercise, definitions, aliases) for exercise in ruled}
    return {name: violation for name, violation in found.items() if violation}
