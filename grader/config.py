"""The course configuration (config.yaml), read once and validated into frozen dataclasses.

Every mistake is refused with a ConfigError that names the file and the key, e.g.
`config.yaml: exercises.corr2d.points: expected a number >= 0, got 'ten'`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from grader.frameworks import FRAMEWORKS

SEED_ENVIRONMENT_VARIABLE = "GRADER_SEED"
DEVICE_NAMES = ("cpu", "gpu")
GPU_POLICIES = ("optional", "required")
ISOLATION_MODES = ("auto", "strict", "basic")
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# How tests that a non-computing answer also passes earn points (see scoring.py).
CREDIT_RULES = ("proportional", "all_or_nothing", "every_test")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


@dataclass(frozen=True)
class ExerciseConfig:
    name: str
    points: float
    public_cases: int
    hidden_cases: int
    time_limit_seconds: float
    tolerance: Tolerance
    uses: tuple[str, ...]
    forbidden: tuple[str, ...] = ()  # names the definition may not use (see policy.py)
    credit: str = "proportional"  # one of CREDIT_RULES (see scoring.py)
    gpu_tolerance: Tolerance | None = None  # on a GPU; None: the same as on the CPU

    def tolerance_on(self, device: str) -> Tolerance:
        """A GPU's TF32 and cuDNN's algorithms round differently from the CPU: there, the
        looser of the two tolerances."""
        if not device.startswith("gpu") or self.gpu_tolerance is None:
            return self.tolerance
        return Tolerance(
            max(self.tolerance.rtol, self.gpu_tolerance.rtol),
            max(self.tolerance.atol, self.gpu_tolerance.atol),
        )


@dataclass(frozen=True)
class Limits:
    submission_seconds: float
    startup_seconds: float
    load_seconds: float
    output_bytes: int
    result_bytes: int
    restarts: int
    memory_bytes: int
    file_bytes: int
    processes: int
    open_files: int


@dataclass(frozen=True)
class SimilarityConfig:
    """The code similarity check of `batch` (see similarity.py)."""

    threshold: float = 0.5  # pairs at or above it are listed
    boilerplate: tuple[Path, ...] = ()  # files and folders of code everyone starts from


@dataclass(frozen=True)
class CourseConfig:
    seed: int
    devices: tuple[str, ...]
    gpu: str
    limits: Limits
    exercises: tuple[ExerciseConfig, ...]
    isolation: str = "auto"
    framework: str = "mxnet"  # the book's edition the students write: one of FRAMEWORKS
    gradescope_hidden_visibility: str = "after_published"  # for hidden cases
    source: str = "config.yaml"
    similarity: SimilarityConfig = SimilarityConfig()

    def exercise(self, name: str) -> ExerciseConfig:
        return next(exercise for exercise in self.exercises if exercise.name == name)


class _Section:
    """One mapping of the YAML document, read key by key with errors that name the key."""

    def __init__(self, data: Any, path: str, source: str) -> None:
        self.path, self.source = path, source
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping, got {_show(data)}")
        self.data = data

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"{self.source}: {key}: {problem}")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def refuse_unknown(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(self.key(str(name)), f"unknown key (known keys: {known})")

    def number(self, name: str, default: Any, *, minimum: float = 0, integer: bool = False):
        value = self.data.get(name, default)
        ok_type = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type) or value < minimum:
            kind = "an integer" if integer else "a number"
            self.fail(self.key(name), f"expected {kind} >= {minimum}, got {_show(value)}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(name, default)
        if value not in choices:
            self.fail(self.key(name), f"expected one of {', '.join(choices)}, got {_show(value)}")
        return value

    def section(self, name: str) -> _Section:
        return _Section(self.data.get(name), self.key(name), self.source)


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, (dict, list)) else type(value).__name__


def _tolerance(section: _Section, default: Tolerance) -> Tolerance:
    section.refuse_unknown({"rtol", "atol"})
    return Tolerance(
        rtol=float(section.number("rtol", default.rtol)),
        atol=float(section.number("atol", default.atol)),
    )


def _devices(top: _Section) -> tuple[str, ...]:
    value = top.data.get("devices", ["cpu", "gpu"])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or any(d not in DEVICE_NAMES for d in value):
        top.fail("devices", f"expected a list drawn from {', '.join(DEVICE_NAMES)}, got {value!r}")
    if "cpu" not in value:
        top.fail("devices", "cpu must be listed: every case runs on the CPU")
    return tuple(d for d in DEVICE_NAMES if d in value)


# limits key -> (default, minimum, scale to the unit Limits keeps, Limits field)
LIMIT_KEYS = {
    "submission_seconds": (300, 1, 1, "submission_seconds"),
    "startup_seconds": (60, 1, 1, "startup_seconds"),
    "load_seconds": (30, 1, 1, "load_seconds"),
    "output_kib": (64, 1, 1024, "output_bytes"),
    "result_mib": (16, 1, 2**20, "result_bytes"),
    "restarts": (10, 0, 1, "restarts"),
    "memory_mib": (2048, 256, 2**20, "memory_bytes"),
    "file_mib": (64, 1, 2**20, "file_bytes"),
    "processes": (64, 16, 1, "processes"),
    "open_files": (256, 32, 1, "open_files"),
}
EXERCISE_KEYS = {
    "points",
    "public_cases",
    "hidden_cases",
    "time_limit_seconds",
    "gpu_tolerance",
    "tolerance",
    "uses",
    "forbidden",
    "credit",
}


def _limits(section: _Section) -> Limits:
    section.refuse_unknown(set(LIMIT_KEYS))
    values = {}
    for key, (default, minimum, scale, field_name) in LIMIT_KEYS.items():
        integer = scale != 1 or key in ("restarts", "processes", "open_files")
        values[field_name] = scale * section.number(key, default, minimum=minimum, integer=integer)
    return Limits(**values)


def _names(section: _Section, key: str, allowed: Any = None) -> tuple[str, ...]:
    """A list of strings; with allowed, each must be in it."""
    value = section.data.get(key, [])
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or (allowed is not None and any(v not in allowed for v in value))
    ):
        wanted = "configured exercises" if allowed is not None else "names"
        section.fail(section.key(key), f"expected a list of {wanted}, got {value!r}")
    return tuple(value)


def _exercise(
    name: str,
    entry: _Section,
    available: int,
    configured: Any,
    default_time: float,
    default_tolerance: Tolerance,
    default_credit: str = "proportional",
    default_gpu_tolerance: Tolerance | None = None,
) -> ExerciseConfig:
    entry.refuse_unknown(EXERCISE_KEYS)
    public = entry.number("public_cases", available, integer=True)
    if public > available:
        entry.fail(entry.key("public_cases"), f"only {available} public cases exist, got {public}")
    return ExerciseConfig(
        name=name,
        points=float(entry.number("points", 10)),
        public_cases=public,
        hidden_cases=entry.number("hidden_cases", 5, integer=True),
        time_limit_seconds=float(entry.number("time_limit_seconds", default_time, minimum=0.1)),
        tolerance=_tolerance(entry.section("tolerance"), default_tolerance),
        uses=_names(entry, "uses", configured),
        forbidden=_names(entry, "forbidden"),
        credit=entry.choice("credit", default_credit, CREDIT_RULES),
        gpu_tolerance=(
            _tolerance(entry.section("gpu_tolerance"), default_gpu_tolerance or default_tolerance)
            if "gpu_tolerance" in (entry.data or {})
            else default_gpu_tolerance
        ),
    )


def _gradescope_visibility(section: _Section) -> str:
    section.refuse_unknown({"hidden_visibility"})
    return section.choice("hidden_visibility", "after_published", GRADESCOPE_VISIBILITIES)


def config_folder(source: str) -> Path:
    """The folder of the config file; the grader's own for a config not read from a file."""
    path = Path(source)
    return path.resolve().parent if path.is_file() else Path(__file__).resolve().parent.parent


def _similarity(section: _Section, folder: Path) -> SimilarityConfig:
    """The threshold, and the boilerplate paths (relative to the config file's folder)."""
    section.refuse_unknown({"threshold", "boilerplate"})
    threshold = float(section.number("threshold", SimilarityConfig.threshold))
    if threshold > 1:
        section.fail(section.key("threshold"), f"expected a number from 0 to 1, got {threshold!r}")
    paths = section.data.get("boilerplate", ["exercises", "solutions"])
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        section.fail(section.key("boilerplate"), f"expected a list of paths, got {_show(paths)}")
    return SimilarityConfig(threshold, tuple(folder / p for p in paths))


def parse_config(data: Any, source: str, known_exercises: dict[str, int]) -> CourseConfig:
    """Validate a loaded YAML document. known_exercises maps each name to its public cases."""
    top = _Section(data, "", source)
    top.refuse_unknown(
        {
            "seed",
            "framework",
            "devices",
            "gpu",
            "isolation",
            "limits",
            "defaults",
            "exercises",
            "gradescope",
            "similarity",
        }
    )
    defaults = top.section("defaults")
    defaults.refuse_unknown({"tolerance", "gpu_tolerance", "time_limit_seconds", "credit"})
    default_credit = defaults.choice("credit", "proportional", CREDIT_RULES)
    default_tolerance = _tolerance(defaults.section("tolerance"), Tolerance(1e-4, 1e-4))
    default_gpu_tolerance = (
        _tolerance(defaults.section("gpu_tolerance"), default_tolerance)
        if "gpu_tolerance" in (defaults.data or {})
        else None
    )
    default_time = float(defaults.number("time_limit_seconds", 10, minimum=0.1))

    section = top.section("exercises")
    if not section.data:
        top.fail("exercises", "no exercises are configured")
    exercises = []
    for name in section.data:
        if name not in known_exercises:
            known = ", ".join(known_exercises)
            top.fail(f"exercises.{name}", f"not an exercise of this chapter (known: {known})")
        exercises.append(
            _exercise(
                name,
                section.section(name),
                known_exercises[name],
                section.data,
                default_time,
                default_tolerance,
                default_credit,
                default_gpu_tolerance,
            )
        )
    return CourseConfig(
        seed=top.number("seed", 0, integer=True),
        devices=_devices(top),
        gpu=top.choice("gpu", "optional", GPU_POLICIES),
        limits=_limits(top.section("limits")),
        exercises=tuple(exercises),
        isolation=top.choice("isolation", "auto", ISOLATION_MODES),
        framework=top.choice("framework", "mxnet", FRAMEWORKS),
        gradescope_hidden_visibility=_gradescope_visibility(top.section("gradescope")),
        source=source,
        similarity=_similarity(top.section("similarity"), config_folder(source)),
    )


def default_config_path() -> Path:
    """config.yaml here or in the folder above (a student's exercises/), else the grader's."""
    for folder in (Path.cwd(), Path.cwd().parent, Path(__file__).resolve().parent.parent):
        if (folder / "config.yaml").is_file():
            return folder / "config.yaml"
    return Path("config.yaml")


def load_config(path: Path, known_exercises: dict[str, int]) -> CourseConfig:
    """Read and validate config.yaml; GRADER_SEED in the environment overrides its seed."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    config = parse_config(data, str(path), known_exercises)
    override = os.environ.get(SEED_ENVIRONMENT_VARIABLE, "").strip()
    if override:  # set and not empty (a CI secret that is not defined arrives empty)
        if not override.strip().isdigit():
            raise ConfigError(f"{SEED_ENVIRONMENT_VARIABLE}: expected an integer, got {override!r}")
        config = replace(config, seed=int(override))
    return config


def only_exercises(config: CourseConfig, names: list[str]) -> CourseConfig:
    """The course restricted to some exercises (in the config's order)."""
    known = [exercise.name for exercise in config.exercises]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"--only: {', '.join(unknown)} is not configured (configured: {', '.join(known)})"
        )
    kept = tuple(e for e in config.exercises if e.name in names)
    return replace(
        config,
        exercises=tuple(replace(e, uses=tuple(u for u in e.uses if u in names)) for e in kept),
    )


def public_only(config: CourseConfig) -> CourseConfig:
    """The course without hidden cases: what a student may run without the seed."""
    return replace(config, exercises=tuple(replace(e, hidden_cases=0) for e in config.exercises))
