"""The framework boundary: one module per framework, the only modules that import one.

`backend(name)` gives the module for `framework:` in the config; every module has the same
names (FRAMEWORK, gpu_count, call_exercise, plain_result, WrongInterface, ...) and imports its
framework lazily, so the grader runs where only one of them is installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FRAMEWORKS = ("mxnet", "pytorch")
NAMES = {"mxnet": "MXNet", "pytorch": "PyTorch"}  # as messages say them


def backend(framework: str) -> ModuleType:
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; one of {', '.join(FRAMEWORKS)}")
    return importlib.import_module(f"grader.frameworks.{framework}")
