"""What gets shipped: the student bundle (`release`) and Gradescope's `autograder.zip`.

The student bundle holds the exercises, the grader (which `check` needs), a config without the
seed, a README, and a GitHub Classroom workflow. It never holds solutions/, the seed, or
expected values of hidden cases (the grader computes those from the seed, at grading time).
The Gradescope zip is the instructor's: the grader and the full config, seed included.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import yaml

from grader import stubs
from grader.config import CourseConfig
from grader.isolation import GRADER_PACKAGE

PROJECT_ROOT = GRADER_PACKAGE.parent  # solutions/, requirements.txt
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")
READ_ONLY_KEYS = ("seed",)  # what a student's copy of the config leaves out

STUDENT_README = """\
# Convolutions: exercises

Fill in the parts marked `TODO` in `exercises/conv_layer.py`, `exercises/padding_and_strides.py`
and `exercises/channels.py`, or in the notebooks beside them, and check your work against the
examples from the book:

```sh
make check                      # or: python -m grader check exercises
```

From a notebook, run this in a cell (it checks the code of the cells you have run):

```python
from grader import check
check("corr2d")                 # or check() for every exercise
```

`check` runs only the public cases: the inputs, the expected and your values are shown for
each failure. Your grade also uses hidden cases, so make your code work for any input, not only
the examples. Pushing to GitHub runs `.github/workflows/classroom.yml`, which grades each
exercise and reports the points to GitHub Classroom.

You need Python 3.10 or 3.11. `make check` installs what it needs into `.venv` (the grader
too, so that `from grader import check` works in a notebook started from `.venv/bin/jupyter`
or any kernel of that environment).
"""

STUDENT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "d2l-conv-exercises"
version = "0.1.0"
requires-python = ">=3.10"
dynamic = ["dependencies"]

[tool.setuptools]
packages = ["grader"]

[tool.setuptools.dynamic]
dependencies = { file = ["requirements.txt"] }
"""

STUDENT_MAKEFILE = """\
PYTHON ?= python3

.PHONY: check

.venv/.installed: requirements.txt pyproject.toml
\ttest -x .venv/bin/python || $(PYTHON) -m venv .venv
\t.venv/bin/python -m pip install --quiet -e .
\ttouch $@

check: .venv/.installed
\t.venv/bin/python -m grader check exercises
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this: grade /autograder/submission into /autograder/results/results.json.
set -eu
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source"
exec "${PYTHON:-python3}" -m grader gradescope --root "$ROOT" --config "$ROOT/source/config.yaml"
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (Ubuntu, as root).
set -eu
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap util-linux
python3 -m pip install -r /autograder/source/requirements.txt
"""


def requirements() -> str:
    """The grader's pinned runtime dependencies (pyproject.toml reads the same file)."""
    return (PROJECT_ROOT / "requirements.txt").read_text()


def student_config(config_path: Path) -> str:
    data = yaml.safe_load(config_path.read_text())
    for key in READ_ONLY_KEYS:
        data.pop(key, None)
    header = (
        "# The course settings `check` uses. The hidden-case seed is not here: hidden cases\n"
        "# run when your work is graded.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False)


def step_id(exercise: str) -> str:
    return exercise.lower().replace("_", "-")


def whole(points: float) -> int | float:
    return int(points) if float(points).is_integer() else points


def grading_command(exercise: str, points: float) -> str:
    return (
        f"python -m grader grade exercises --only {exercise} --device cpu "
        f"--format markdown --fail-under {whole(points)}"
    )


def classroom_workflow(config: CourseConfig) -> str:
    """A GitHub Classroom workflow: one command-grader step per exercise, worth its points
    when the exercise passes in full (the command exits 0), and the grading reporter."""
    steps = [
        {"name": "Check out the code", "uses": "actions/checkout@v4"},
        {
            "name": "Set up Python",
            "uses": "actions/setup-python@v5",
            "with": {"python-version": "3.11"},
        },
        {"name": "Install the grader", "run": "python -m pip install -r requirements.txt"},
    ]
    for exercise in config.exercises:
        steps.append(
            {
                "name": exercise.name,
                "id": step_id(exercise.name),
                "uses": "classroom-resources/autograding-command-grader@v1",
                "with": {
                    "test-name": exercise.name,
                    "command": grading_command(exercise.name, exercise.points),
                    "timeout": 10,
                    "max-score": whole(exercise.points),
                },
            }
        )
    ids = [step_id(exercise.name) for exercise in config.exercises]
    steps.append(
        {
            "name": "Autograding Reporter",
            "uses": "classroom-resources/autograding-grading-reporter@v1",
            "env": {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids},
            "with": {"runners": ",".join(ids)},
        }
    )
    workflow = {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {
            "run-autograding-tests": {
                "runs-on": "ubuntu-latest",
                "if": "github.actor != 'github-classroom[bot]'",
                # The instructor sets GRADER_SEED as a classroom secret; unset, it is empty and
                # the config's default seed is used.
                "env": {"GRADER_SEED": "${{ secrets.GRADER_SEED }}"},
                "steps": steps,
            }
        },
    }
    return (
        "# Grades each exercise on push and reports the points to GitHub Classroom.\n"
        + yaml.safe_dump(workflow, sort_keys=False, width=200)
    )


def student_bundle(outdir: Path, config: CourseConfig, config_path: Path) -> None:
    """Write the student bundle into outdir (which must not exist yet or be empty)."""
    if outdir.exists() and any(outdir.iterdir()):
        raise FileExistsError(17, "the release folder is not empty", str(outdir))
    exercises = outdir / "exercises"
    exercises.mkdir(parents=True)
    for name, text in stubs.exercise_files(PROJECT_ROOT / "solutions").items():
        (exercises / name).write_text(text)
    shutil.copytree(GRADER_PACKAGE, outdir / "grader", ignore=SKIPPED)
    (outdir / "config.yaml").write_text(student_config(config_path))
    (outdir / "requirements.txt").write_text(requirements())
    (outdir / "README.md").write_text(STUDENT_README)
    (outdir / "Makefile").write_text(STUDENT_MAKEFILE)
    (outdir / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    workflows = outdir / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "classroom.yml").write_text(classroom_workflow(config))


def gradescope_zip(path: Path, config_path: Path) -> None:
    """autograder.zip with setup.sh and run_autograder at its root, as Gradescope wants."""
    path.parent.mkdir(parents=True, exist_ok=True)
    executable = (stat.S_IFREG | 0o755) << 16
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = executable
            archive.writestr(info, text)
        archive.writestr("requirements.txt", requirements())
        archive.writestr("config.yaml", config_path.read_text())
        for file in sorted(GRADER_PACKAGE.rglob("*.py")):
            archive.write(file, f"grader/{file.relative_to(GRADER_PACKAGE)}")
