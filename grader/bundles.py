"""What gets shipped: the student bundle (`release`) and Gradescope's `autograder.zip`.

The student bundle holds the exercises, the grader (which `check` needs), a config without the
seed, a README, and a GitHub Actions workflow that grades on push. It never holds solutions/,
the seed, or expected values of hidden cases (the grader computes those from the seed, at
grading time). The instructor's bundles hold the grader and the full config, seed included:
Gradescope's autograder.zip, Classroom 50's per-assignment autograder folder, and PrairieLearn's
external grader (an image definition and the course files it mounts).
"""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import yaml

from grader import stubs
from grader.config import CourseConfig
from grader.isolation import GRADER_PACKAGE

PROJECT_ROOT = GRADER_PACKAGE.parent  # solutions/, requirements.txt
REQUIREMENTS = "requirements.txt"  # the grader's pinned packages
BOOK_REQUIREMENTS = "requirements-book.txt"  # the book's packages, installed with --no-deps
# mxnet where numpy 2 is used (Python 3.13), installed with --no-deps; empty elsewhere
MXNET_REQUIREMENTS = "requirements-mxnet.txt"
PYTORCH_REQUIREMENTS = "requirements-pytorch.txt"  # installed where the config says pytorch


def pytorch_install(config: str, pip: str = "python -m pip") -> str:
    """A shell line installing the PyTorch edition's packages if the config asks for it."""
    return (
        f"if grep -qs '^framework: pytorch' {config}; then "
        f"{pip} install -r {PYTORCH_REQUIREMENTS}; fi"
    )


def edition_folders(framework: str) -> tuple[Path, Path]:
    """(solutions, exercises) of the book's edition for a framework."""
    sub = "" if framework == "mxnet" else framework
    return PROJECT_ROOT / "solutions" / sub, PROJECT_ROOT / "exercises" / sub


WORKFLOW = ".github/workflows/grade.yml"
HTML_REPORT = "grade-report.html"
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
the examples. Pushing to GitHub runs `.github/workflows/grade.yml`: the run's summary shows your
score, and the full report is attached to the run as `grade-report` (download it, open
`grade-report.html`).

You need Python 3.10 to 3.13. `make check` installs what it needs into `.venv` (the grader
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

.venv/.installed: requirements.txt requirements-mxnet.txt requirements-book.txt pyproject.toml
\ttest -x .venv/bin/python || $(PYTHON) -m venv .venv
\t.venv/bin/python -m pip install --quiet -e .
\t.venv/bin/python -m pip install --quiet --no-deps -r requirements-mxnet.txt
\t.venv/bin/python -m pip install --quiet --no-deps -r requirements-book.txt
\t{pytorch}
\t.venv/bin/python -m grader.frameworks.mxnet_compat
\ttouch $@

check: .venv/.installed
\t.venv/bin/python -m grader check exercises
""".replace("{pytorch}", pytorch_install("config.yaml", ".venv/bin/python -m pip"))

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
python3 -m pip install --no-deps -r /autograder/source/requirements-mxnet.txt
python3 -m pip install --no-deps -r /autograder/source/requirements-book.txt
cd /autograder/source && {pytorch}
""".replace("{pytorch}", pytorch_install("config.yaml", "python3 -m pip"))


def requirements() -> str:
    """The grader's pinned runtime dependencies (pyproject.toml reads the same file)."""
    return (PROJECT_ROOT / REQUIREMENTS).read_text()


def book_requirements() -> str:
    """The book's own packages (d2l, d2lzh, gluonbook): pinned, installed with --no-deps."""
    return (PROJECT_ROOT / BOOK_REQUIREMENTS).read_text()


def write_requirements(folder: Path) -> None:
    (folder / REQUIREMENTS).write_text(requirements())
    (folder / MXNET_REQUIREMENTS).write_text((PROJECT_ROOT / MXNET_REQUIREMENTS).read_text())
    (folder / BOOK_REQUIREMENTS).write_text(book_requirements())
    (folder / PYTORCH_REQUIREMENTS).write_text((PROJECT_ROOT / PYTORCH_REQUIREMENTS).read_text())


INSTALL_COMMANDS = (
    f"python -m pip install -r {REQUIREMENTS}",
    f"python -m pip install --no-deps -r {MXNET_REQUIREMENTS}",
    f"python -m pip install --no-deps -r {BOOK_REQUIREMENTS}",
    pytorch_install("config.yaml"),
)


def student_config(config_path: Path, framework: str | None = None) -> str:
    data = yaml.safe_load(config_path.read_text())
    for key in READ_ONLY_KEYS:
        data.pop(key, None)
    if framework:
        data = {"framework": framework, **{k: v for k, v in data.items() if k != "framework"}}
    header = (
        "# The course settings `check` uses. The hidden-case seed is not here: hidden cases\n"
        "# run when your work is graded.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False)


def whole(points: float) -> int | float:
    return int(points) if float(points).is_integer() else points


def max_points(config: CourseConfig) -> int | float:
    return whole(round(sum(e.points for e in config.exercises), 4))


def grading_command(fail_under: float) -> str:
    return (
        f"python -m grader grade exercises --device cpu --format markdown "
        f"--html {HTML_REPORT} --fail-under {whole(fail_under)}"
    )


def actions_workflow(config: CourseConfig, fail_under: float | None = None) -> str:
    """A plain GitHub Actions workflow: grade on push, the Markdown summary on the run's page
    (the grader appends it to $GITHUB_STEP_SUMMARY), the HTML report as an artifact, and a
    failed check below `fail_under` (default: full marks)."""
    threshold = max_points(config) if fail_under is None else fail_under
    workflow = {
        "name": "Grade",
        "on": {"push": None, "workflow_dispatch": None},
        "permissions": {"contents": "read"},
        "jobs": {
            "grade": {
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 30,
                # The instructor may set GRADER_SEED as a secret; unset, it is empty and the
                # config's public default seed is used.
                "env": {"GRADER_SEED": "${{ secrets.GRADER_SEED }}"},
                "steps": [
                    {"name": "Check out the code", "uses": "actions/checkout@v4"},
                    {
                        "name": "Set up Python",
                        "uses": "actions/setup-python@v5",
                        "with": {"python-version": "3.11"},
                    },
                    {"name": "Install the grader", "run": " && ".join(INSTALL_COMMANDS)},
                    {"name": "Grade", "id": "grade", "run": grading_command(threshold)},
                    {
                        "name": "Upload the report",
                        "if": "always()",
                        "uses": "actions/upload-artifact@v4",
                        "with": {
                            "name": "grade-report",
                            "path": HTML_REPORT,
                            "if-no-files-found": "warn",
                        },
                    },
                ],
            }
        },
    }
    text = yaml.safe_dump(workflow, sort_keys=False, width=200)
    # YAML 1.1 readers take a bare `on` key for the boolean true; GitHub wants the word.
    text = (
        text.replace("\n'on':", "\non:")
        .replace("push: null", "push:")
        .replace("workflow_dispatch: null", "workflow_dispatch:")
    )
    return (
        f"# Grades the exercises on every push; the check fails below {whole(threshold)} points.\n"
        + text
    )


def student_bundle(
    outdir: Path, config: CourseConfig, config_path: Path, fail_under: float | None = None
) -> None:
    """Write the student bundle into outdir (which must not exist yet or be empty)."""
    if outdir.exists() and any(outdir.iterdir()):
        raise FileExistsError(17, "the release folder is not empty", str(outdir))
    exercises = outdir / "exercises"
    exercises.mkdir(parents=True)
    for name, text in stubs.exercise_files(edition_folders(config.framework)[0]).items():
        (exercises / name).write_text(text)
    shutil.copytree(GRADER_PACKAGE, outdir / "grader", ignore=SKIPPED)
    (outdir / "config.yaml").write_text(student_config(config_path, config.framework))
    write_requirements(outdir)
    (outdir / "README.md").write_text(STUDENT_README)
    (outdir / "Makefile").write_text(STUDENT_MAKEFILE)
    (outdir / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    (outdir / WORKFLOW).parent.mkdir(parents=True)
    (outdir / WORKFLOW).write_text(actions_workflow(config, fail_under))


def gradescope_zip(path: Path, config_path: Path) -> None:
    """autograder.zip with setup.sh and run_autograder at its root, as Gradescope wants."""
    path.parent.mkdir(parents=True, exist_ok=True)
    executable = (stat.S_IFREG | 0o755) << 16
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = executable
            archive.writestr(info, text)
        archive.writestr(REQUIREMENTS, requirements())
        archive.writestr(BOOK_REQUIREMENTS, book_requirements())
        archive.writestr(MXNET_REQUIREMENTS, (PROJECT_ROOT / MXNET_REQUIREMENTS).read_text())
        archive.writestr(PYTORCH_REQUIREMENTS, (PROJECT_ROOT / PYTORCH_REQUIREMENTS).read_text())
        archive.writestr("config.yaml", config_path.read_text())
        for file in sorted(GRADER_PACKAGE.rglob("*.py")):
            archive.write(file, f"grader/{file.relative_to(GRADER_PACKAGE)}")


# ---- Classroom 50: a per-assignment autograder folder for the teacher's config repository ----

CLASSROOM50_AUTOGRADER = '''\
#!/usr/bin/env python3
"""Classroom 50 runs this once per submission, with the student's checkout as the working
directory (see the grader's README, "Classroom 50"). It grades `exercises/` with the grader
beside this file, never the student's copy of it, and writes what Classroom 50 reads:
./result.json (classroom50/result/v1), ./release-body.md and status/summary in $GITHUB_OUTPUT.
Exit 0 when grading ran, whatever the score; anything else is an infrastructure error."""

import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(os.environ.get("CLASSROOM50_BUNDLE_DIR") or Path(__file__).parent).resolve()
WORKSPACE = Path.cwd().resolve()
SUBMISSION = WORKSPACE / "exercises"


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)


def whole(points):
    """Classroom 50 takes integer points: round half up, never above the maximum."""
    return int(points + 0.5)


def main():
    pip("-r", str(HERE / "requirements.txt"))
    pip("--no-deps", "-r", str(HERE / "requirements-mxnet.txt"))
    pip("--no-deps", "-r", str(HERE / "requirements-book.txt"))
    if "framework: pytorch" in (HERE / "config.yaml").read_text().splitlines():
        pip("-r", str(HERE / "requirements-pytorch.txt"))
    report_file = Path(tempfile.mkdtemp()) / "report.json"
    # Run from HERE, so `-m grader` is this folder's grader and not the student's copy.
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(SUBMISSION), "--config",
         str(HERE / "config.yaml"), "--device", "cpu", "--format", "json",
         "--output", str(report_file)],
        cwd=HERE,
        check=True,
    )
    sys.path.insert(0, str(HERE))
    from grader.render import render_markdown
    from grader.report import report_from_dict

    report = report_from_dict(json.loads(report_file.read_text()))
    tests = []
    for exercise in report.exercises:
        maximum = whole(exercise.max_score)
        problem = next((t for t in exercise.tests if t.status not in ("passed", "skipped")), None)
        tests.append({
            "test-name": exercise.name,
            "passed": problem is None and exercise.score >= exercise.max_score,
            "score": min(maximum, whole(exercise.score)),
            "max-score": maximum,
            "message": problem.message.splitlines()[0] if problem and problem.message else "",
        })
    score = sum(t["score"] for t in tests)
    maximum = sum(t["max-score"] for t in tests)
    commit = os.environ.get("COMMIT_URL", "")
    result = {
        "schema": "classroom50/result/v1",
        "classroom": os.environ.get("CLASSROOM", ""),
        "assignment": os.environ.get("ASSIGNMENT", ""),
        "submission": os.environ.get("SUBMISSION_TAG", ""),
        "commit": commit,
        "release": os.environ.get("RELEASE_URL", ""),
        "review": os.environ.get("REVIEW_URL") or commit,
        "datetime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "score": score,
        "max-score": maximum,
        "tests": tests,
    }
    (WORKSPACE / "result.json").write_text(json.dumps(result, indent=2) + "\\n")
    (WORKSPACE / "release-body.md").write_text(render_markdown(report))
    passed = all(t["passed"] for t in tests)
    summary = f"d2l-conv autograde: {score}/{maximum}" + (" (all passed)" if passed else "")
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as output:
            output.write(f"status={'success' if passed else 'failure'}\\n")
            output.write(f"summary={summary}\\n")
    print(summary)


if __name__ == "__main__":
    main()
'''

# The `runtime` block of the assignment (gh teacher assignment add --runtime runtime.json).
CLASSROOM50_RUNTIME = {"runs-on": "ubuntu-latest", "python": "3.11", "apt": ["bubblewrap"]}


def copy_grader(folder: Path) -> None:
    shutil.copytree(GRADER_PACKAGE, folder / "grader", ignore=SKIPPED)


def empty_folder(outdir: Path) -> None:
    if outdir.exists() and any(outdir.iterdir()):
        raise FileExistsError(17, "the folder is not empty", str(outdir))
    outdir.mkdir(parents=True, exist_ok=True)


def classroom50_autograder(outdir: Path, config_path: Path) -> None:
    """What goes into `CLASSROOM/autograders/ASSIGNMENT/` of the teacher's classroom50
    repository: autograder.py, the grader, the full config (with the seed) and the pinned
    requirements; and runtime.json for the assignment's runtime block."""
    empty_folder(outdir)
    (outdir / "autograder.py").write_text(CLASSROOM50_AUTOGRADER)
    copy_grader(outdir)
    (outdir / "config.yaml").write_text(config_path.read_text())
    write_requirements(outdir)
    (outdir / "runtime.json").write_text(json.dumps(CLASSROOM50_RUNTIME, indent=2) + "\n")


# ---- PrairieLearn: an external grader image and the course files it runs ----

PRAIRIELEARN_DIR = "d2l_conv_grader"  # under the course's serverFilesCourse/

PRAIRIELEARN_DOCKERFILE = f"""\
# The external grader image: Python 3.11 and the grader's pinned packages. The grader itself
# and the course config (with the seed) come from serverFilesCourse/{PRAIRIELEARN_DIR}/ at
# grading time, so changing them needs no new image. Build and push:
#   docker build -t YOUR_NAME/d2l-conv-grader . && docker push YOUR_NAME/d2l-conv-grader
FROM python:3.11-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends bubblewrap util-linux libgomp1 libquadmath0 \\
 && rm -rf /var/lib/apt/lists/*
# The PyTorch edition's packages too when the course's config says framework: pytorch
# (the default below); --build-arg FRAMEWORK=mxnet|pytorch overrides it.
ARG FRAMEWORK=FRAMEWORK_OF_THE_CONFIG
COPY {REQUIREMENTS} {MXNET_REQUIREMENTS} {BOOK_REQUIREMENTS} {PYTORCH_REQUIREMENTS} /tmp/
RUN python -m pip install --no-cache-dir -r /tmp/{REQUIREMENTS} \\
 && python -m pip install --no-cache-dir --no-deps -r /tmp/{MXNET_REQUIREMENTS} \\
 && python -m pip install --no-cache-dir --no-deps -r /tmp/{BOOK_REQUIREMENTS} \\
 && if [ "$FRAMEWORK" = pytorch ]; then \\
      python -m pip install --no-cache-dir -r /tmp/{PYTORCH_REQUIREMENTS}; fi
"""

PRAIRIELEARN_RUN = """\
#!/bin/sh
# PrairieLearn's entrypoint: grade /grade/student, write /grade/results/results.json.
set -eu
ROOT="${GRADE_ROOT:-/grade}"
HERE="$ROOT/serverFilesCourse/d2l_conv_grader"
mkdir -p "$ROOT/results"
cd "$HERE"
exec "${PYTHON:-python3}" -m grader grade "$ROOT/student" --config "$HERE/config.yaml" \\
  --device cpu --format prairielearn --output "$ROOT/results/results.json"
"""


def prairielearn_options(image: str = "YOUR_NAME/d2l-conv-grader") -> dict:
    """The question's info.json `externalGradingOptions`."""
    return {
        "enabled": True,
        "image": image,
        "serverFilesCourse": [f"{PRAIRIELEARN_DIR}/"],
        "entrypoint": f"/grade/serverFilesCourse/{PRAIRIELEARN_DIR}/run.sh",
        # MXNet's import and a whole chapter take seconds here; the default 30 s is tight.
        "timeout": 120,
    }


def prairielearn_files(outdir: Path, config_path: Path) -> None:
    """image/ (Dockerfile and requirements), serverFilesCourse/d2l_conv_grader/ (the grader,
    the full config, run.sh), and info.json's externalGradingOptions to paste."""
    empty_folder(outdir)
    image = outdir / "image"
    image.mkdir()
    framework = (yaml.safe_load(config_path.read_text()) or {}).get("framework", "mxnet")
    dockerfile = PRAIRIELEARN_DOCKERFILE.replace("FRAMEWORK_OF_THE_CONFIG", str(framework))
    (image / "Dockerfile").write_text(dockerfile)
    write_requirements(image)
    course = outdir / "serverFilesCourse" / PRAIRIELEARN_DIR
    course.mkdir(parents=True)
    copy_grader(course)
    (course / "config.yaml").write_text(config_path.read_text())
    run = course / "run.sh"
    run.write_text(PRAIRIELEARN_RUN)
    run.chmod(0o755)
    options = {"externalGradingOptions": prairielearn_options()}
    (outdir / "info.json").write_text(json.dumps(options, indent=2) + "\n")
