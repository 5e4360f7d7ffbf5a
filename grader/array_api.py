"""Which of MXNet's two array APIs each definition is written in, read from the source.

MXNet has the legacy `mxnet.nd` API (NDArray: D2L's first edition, d2lzh, gluonbook) and the
numpy-style `mxnet.np`/`npx` API (`npx.set_np()`: the book since 2020). Their arrays and
operators do not mix (`nd.dot` rejects an `mxnet.np` array, an NDArray rejects an `np` value in
item assignment), so an exercise written in one API is called with inputs of that API, in the
mode that API runs in. The choice is made here, in the grader, from the source alone, so it is
deterministic and can be said in the report:

1. the references of the definition and of the submission's functions it uses
   (`nd.zeros`, `mx.nd.array`, `d2lzh.corr2d` for nd; `np.zeros`, `npx.relu`,
   `d2l.corr2d` after `from d2l import mxnet as d2l` for np), the majority if both appear;
2. otherwise the submission as a whole: `npx.set_np()` anywhere means np, else the API its
   imports and references use most;
3. otherwise np, the API of the exercises.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from grader import frameworks
from grader.policy import dotted, import_aliases, parsed_cells, references, top_level_definitions
from grader.submission import Submission

ND, NP, TORCH = "nd", "np", "torch"
DESCRIPTIONS = {
    ND: "MXNet's legacy nd API (NDArray)",
    NP: "MXNet's np API (mxnet.np)",
    TORCH: "PyTorch",
}
ND_MODULES = ("mxnet.nd", "mxnet.ndarray", "d2lzh", "gluonbook")
NP_MODULES = ("mxnet.np", "mxnet.npx", "mxnet.numpy", "mxnet.numpy_extension", "d2l.mxnet")


@dataclass(frozen=True)
class ArrayApis:
    """The API the submission's top-level code runs in, and each graded name's."""

    submission: str = NP
    exercises: dict[str, str] = field(default_factory=dict)

    def of(self, exercise: str) -> str:
        return self.exercises.get(exercise, self.submission)


def api_of(name: str) -> str | None:
    """nd, np or None for a dotted name with its import alias expanded."""
    for api, modules in ((ND, ND_MODULES), (NP, NP_MODULES)):
        if any(name == module or name.startswith(f"{module}.") for module in modules):
            return api
    return None


# What these names mean where no import binds them (`from mxnet import *`, a name imported in
# another notebook the student ran first): the book's own spellings.
UNBOUND = {"nd": "mxnet.nd", "npx": "mxnet.npx", "mx": "mxnet"}


def expanded(reference: str, aliases: dict[str, str]) -> str:
    head, _, rest = reference.partition(".")
    return aliases.get(head, UNBOUND.get(head, head)) + (f".{rest}" if rest else "")


def majority(nd: int, np: int) -> str | None:
    if nd == np:
        return None
    return ND if nd > np else NP


def count(names, aliases: dict[str, str]) -> tuple[int, int]:
    """(nd, np) among the outermost dotted names (`nd.random.uniform` counts once)."""
    apis = [api_of(expanded(name, aliases)) for name in names]
    return apis.count(ND), apis.count(NP)


def outermost(nodes) -> list[str]:
    """Dotted names of the Name/Attribute nodes that are not part of a longer dotted name."""
    nodes = list(nodes)
    inner = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
    return [name for node in nodes if id(node) not in inner and (name := dotted(node))]


def calls_set_np(trees: list[tuple[str, ast.Module]]) -> bool:
    return any(
        isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("set_np")
        for _, tree in trees
        for node in ast.walk(tree)
    )


def submission_api(trees: list[tuple[str, ast.Module]], aliases: dict[str, str]) -> str:
    if calls_set_np(trees):
        return NP
    nodes = [node for _, tree in trees for node in ast.walk(tree)]
    nd, np = count(outermost(n for n in nodes if isinstance(n, ast.Name | ast.Attribute)), aliases)
    imported = [api_of(module) for module in aliases.values()]
    nd, np = nd + imported.count(ND), np + imported.count(NP)
    return majority(nd, np) or NP


def array_apis(submission: Submission, names: list[str], framework: str = "mxnet") -> ArrayApis:
    """The API of the submission and of each graded name it defines; a framework with one
    array API (PyTorch) needs no reading."""
    apis = tuple(frameworks.backend(framework).ARRAY_TYPES)
    if len(apis) == 1:
        return ArrayApis(apis[0])
    trees = parsed_cells(submission)
    definitions, aliases = top_level_definitions(trees), import_aliases(trees)
    overall = submission_api(trees, aliases)
    chosen = {}
    for name in names:
        nodes = [node for _, node in references(name, definitions)]
        if name not in definitions and name in aliases:  # `from d2lzh import corr2d`
            chosen[name] = api_of(aliases[name]) or overall
        else:
            chosen[name] = majority(*count(outermost(nodes), aliases)) or overall
    return ArrayApis(overall, chosen)


# The modules that say which edition of the book code is written for.
EDITION_MODULES = {
    "mxnet": ("mxnet", "d2lzh", "gluonbook", "d2l.mxnet"),
    "pytorch": ("torch", "d2l.torch"),
}


def editions_imported(submission: Submission) -> set[str]:
    """The frameworks whose modules the submission imports (the book's packages included)."""
    found = set()
    for imported in import_aliases(parsed_cells(submission)).values():
        for framework, modules in EDITION_MODULES.items():
            if any(imported == m or imported.startswith(f"{m}.") for m in modules):
                found.add(framework)
    return found


def edition_note(submission: Submission, framework: str) -> str | None:
    """A note when the code imports only the other edition's framework: graded as the course
    says, it fails for that reason alone."""
    found = editions_imported(submission)
    if not found or framework in found:
        return None
    other = sorted(found)[0]
    names = frameworks.NAMES
    return (
        f"this code imports {names[other]}, but the course grades the {names[framework]} "
        f"edition (framework: {framework}); grade it with --framework {other} if that is the "
        "edition it was written for"
    )
