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
from collections.abc import Iterator
from dataclasses import dataclass

from grader.config import ExerciseConfig
from grader.submission import Submission

# The book's packages, as students import them: d2l 1.0 (`from d2l import mxnet as d2l`, or
# torch), the flat d2l of 2019, d2lzh (the Chinese edition) and gluonbook (2018).
BOOK_PACKAGES = ("d2l", "d2l.mxnet", "d2l.torch", "d2lzh", "gluonbook")


@dataclass(frozen=True)
class Violation:
    exercise: str
    name: str  # the forbidden name as configured
    where: str  # "conv_layer.py, line 25"
    written: str = ""  # as the code spells it (`F.conv2d`, `conv`), where that differs

    def message(self) -> str:
        used = f"{self.written or self.name} ({self.where})"
        if self.written and self.written != self.name:
            used += f", which is {self.name}"
        return (
            f"{self.exercise} uses {used}; this exercise asks you to write it without "
            f"{self.name}, so its tests were not run"
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


def references(name: str, definitions: dict[str, list[tuple]]) -> Iterator[tuple[str, ast.AST]]:
    """(cell label, Name or Attribute node) for every reference in the definitions of name and
    of the submission's functions and classes they use, in order (not its variables: a demo's
    `Y = corr2d(X, K)` says nothing about a function using Y)."""
    callables = {
        found_name
        for found_name, found in definitions.items()
        if any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for _, node in found
        )
    }
    seen, queue = set(), [name]
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for label, definition in definitions.get(current, []):
            for node in ast.walk(definition):
                if not isinstance(node, (ast.Name, ast.Attribute)):
                    continue
                yield label, node
                if isinstance(node, ast.Name) and node.id in callables:
                    queue.append(node.id)


def book_implementations(exercise: str) -> tuple[str, ...]:
    """The book's packages' own version of an exercise: never what earns it."""
    return tuple(f"{package}.{exercise}" for package in BOOK_PACKAGES)


def imports_of(name: str, trees: list[tuple[str, ast.Module]]) -> list[tuple[str, ast.stmt]]:
    """The top-level imports that bind name."""
    return [
        (label, node)
        for label, tree in trees
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any((a.asname or a.name.split(".")[0]) == name for a in node.names)
    ]


def first_use(
    exercise: ExerciseConfig,
    trees: list[tuple[str, ast.Module]],
    definitions: dict[str, list[tuple]],
    aliases: dict[str, str],
) -> Violation | None:
    banned_names = (*exercise.forbidden, *book_implementations(exercise.name))
    for label, node in imports_of(exercise.name, trees):  # `from d2l.mxnet import corr2d`
        for banned in banned_names:
            if refers_to(aliases[exercise.name], banned, {}):
                return Violation(exercise.name, banned, f"{label}, line {node.lineno}")
    for label, node in references(exercise.name, definitions):
        reference = dotted(node)
        for banned in banned_names:
            if reference and refers_to(reference, banned, aliases):
                where = f"{label}, line {node.lineno}"
                return Violation(exercise.name, banned, where, reference)
    return None


def violations(
    submission: Submission, exercises: tuple[ExerciseConfig, ...]
) -> dict[str, Violation]:
    """The first forbidden use for each exercise that has one."""
    trees = parsed_cells(submission)
    definitions, aliases = top_level_definitions(trees), import_aliases(trees)
    found = {
        exercise.name: first_use(exercise, trees, definitions, aliases) for exercise in exercises
    }
    return {name: violation for name, violation in found.items() if violation}


def calls(submission: Submission, name: str, other: str) -> bool:
    """Whether the submission's definition of name, or a function or class of the submission
    that it uses, refers to the submission's own other: one it defines, or imports from one
    of its own files (`from conv_layer import corr2d`, `conv_layer.corr2d`). The book's
    (`d2l.corr2d`) is not the student's, so a bug in the student's cannot reach name."""
    trees = parsed_cells(submission)
    definitions, aliases = top_level_definitions(trees), import_aliases(trees)
    own_modules = {source.name.rpartition(".")[0] for source in submission.sources}

    def is_own(reference: str) -> bool:
        head, _, rest = reference.partition(".")
        full = aliases.get(head, head) + (f".{rest}" if rest else "")
        if head not in aliases:
            return full == other and other in definitions
        module, _, attribute = full.rpartition(".")
        return attribute == other and module in own_modules

    return any(
        is_own(reference)
        for _, node in references(name, definitions)
        if (reference := dotted(node)) is not None
    )
