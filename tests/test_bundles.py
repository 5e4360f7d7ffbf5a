"""The student bundle and Gradescope's autograder.zip, built and then used as their users will."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SOLUTIONS, course_config, solution_text, with_change, write

from grader import bundles, stubs

SEED = str(course_config().seed)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("release") / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(outdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return outdir


def squeezed(line: str) -> str:
    return re.sub(r"\s+", "", line)


def book_code_lines() -> set[str]:
    """Lines the book's own packages publish (d2l, d2lzh, gluonbook, which the bundle installs):
    public code, whoever ships it again, compared without spaces."""
    lines = set()
    for package in ("d2l", "d2lzh", "gluonbook"):
        root = Path(importlib.util.find_spec(package).origin).parent
        for source in root.rglob("*.py"):
            lines |= {squeezed(line) for line in source.read_text(errors="replace").splitlines()}
    return lines


def solution_code_lines() -> set[str]:
    """Lines of the solution blocks that say something (not a lone bracket, `return Y`, or a
    line that only opens a bracket) and that the book does not publish itself."""
    published = book_code_lines()
    lines = set()
    for solution in SOLUTIONS.glob("*.py"):
        for block in solution.read_text().split(stubs.BEGIN)[1:]:
            lines |= {
                line.strip()
                for line in block.split(stubs.END)[0].splitlines()
                if len(line.strip()) >= 12
                and not line.strip().startswith("#")
                and not line.strip().endswith(("(", "[", "{"))
                and squeezed(line) not in published
            }
    return lines


def test_the_bundle_holds_no_solution_no_seed_and_no_hidden_values(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert not any("solution" in part for p in files for part in p.relative_to(bundle).parts)
    secret_lines = solution_code_lines()
    assert len(secret_lines) >= 20, "the audit still has the solutions' own lines to look for"
    for path in files:
        text = path.read_text()
        assert SEED not in text, f"the seed is in {path}"
        code = {line.strip() for line in text.splitlines() if not line.strip().startswith("#")}
        if path.suffix == ".ipynb":
            code = {
                line.strip()
                for cell in json.loads(text)["cells"]
                if cell["cell_type"] == "code"
                for line in "".join(cell["source"]).split("\n")
            }
        assert not (secret_lines & code), f"solution code in {path}: {secret_lines & code}"
    assert "seed" not in yaml.safe_load((bundle / "config.yaml").read_text())
    assert sorted(p.name for p in (bundle / "exercises").iterdir()) == sorted(
        stubs.exercise_files(SOLUTIONS)
    )


def test_the_workflow_is_a_valid_github_actions_workflow(bundle, tmp_path):
    """Checked against the GitHub workflow schema check-jsonschema ships (SchemaStore's), and
    the same check refuses a workflow with its runner removed."""
    workflow = bundle / bundles.WORKFLOW
    assert not (bundle / ".github/workflows/classroom.yml").exists()
    schema = "vendor.github-workflows"
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema]
    done = subprocess.run([*check, str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = yaml.safe_load(workflow.read_text().replace("\non:", "\n'on':"))
    del broken["jobs"]["grade"]["runs-on"]
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    refused = subprocess.run([*check, str(tmp_path / "broken.yml")], capture_output=True)
    assert refused.returncode != 0
    steps = yaml.safe_load(workflow.read_text().replace("\non:", "\n'on':"))["jobs"]["grade"]
    steps = steps["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == bundles.HTML_REPORT
    assert not any("classroom" in s.get("uses", "") for s in steps), "no retired service"


def workflow_runs(bundle: Path) -> list[str]:
    text = (bundle / bundles.WORKFLOW).read_text().replace("\non:", "\n'on':")
    return [s["run"] for s in yaml.safe_load(text)["jobs"]["grade"]["steps"] if "run" in s]


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory, bundle) -> Path:
    """A new virtual environment with nothing but what the bundle's own Makefile installs
    (the grader and its pins, then the book's packages with --no-deps), in a copy of it."""
    installed = tmp_path_factory.mktemp("installed") / "bundle"
    shutil.copytree(bundle, installed)
    done = subprocess.run(
        ["make", "-C", str(installed), ".venv/.installed", f"PYTHON={sys.executable}"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-2000:]
    python = installed / ".venv" / "bin" / "python"
    books = subprocess.run(
        [str(python), "-m", "pip", "show", "d2l", "d2lzh", "gluonbook"], capture_output=True
    )
    assert books.returncode == 0, "the book's packages come with the bundle"
    return python


def run_in(bundle: Path, python: Path, command: str, **env) -> subprocess.CompletedProcess:
    """A command line as a student's shell or CI runs it, with the fresh environment first."""
    path = f"{python.parent}:{os.environ['PATH']}"
    return subprocess.run(
        command,
        shell=True,
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": path, "HOME": str(bundle), **env},
    )


def test_check_works_from_the_bundle_in_a_fresh_environment(bundle, fresh_python, tmp_path):
    stubbed = run_in(bundle, fresh_python, "python -m grader check exercises")
    assert stubbed.returncode == 0, stubbed.stderr
    assert "0 of 8 exercises pass their public cases" in stubbed.stdout
    finished = tmp_path / "finished"
    shutil.copytree(bundle, finished, ignore=shutil.ignore_patterns("*.egg-info"))
    for name in ("conv_layer.py", "padding_and_strides.py", "channels.py"):
        shutil.copy(SOLUTIONS / name, finished / "exercises" / name)
    done = run_in(finished, fresh_python, "python -m grader check exercises")
    assert "8 of 8 exercises pass their public cases" in done.stdout, done.stdout + done.stderr


def student_copy(bundle: Path, folder: Path, finished: tuple[str, ...]) -> Path:
    """A student's clone of the bundle with some files finished (copied from solutions/)."""
    shutil.copytree(bundle, folder, ignore=shutil.ignore_patterns("*.egg-info"))
    for name in finished:
        shutil.copy(SOLUTIONS / name, folder / "exercises" / name)
    return folder


def test_the_workflow_commands_grade_summarize_and_fail_the_check(bundle, fresh_python, tmp_path):
    install, grade = workflow_runs(bundle)
    assert "--no-deps -r requirements-book.txt" in install
    assert run_in(bundle, fresh_python, install).returncode == 0
    results = {}
    for name, finished in (
        ("partial", ("conv_layer.py",)),
        ("complete", ("conv_layer.py", "padding_and_strides.py", "channels.py")),
    ):
        student = student_copy(bundle, tmp_path / name, finished)
        summary = tmp_path / f"{name}-summary.md"
        results[name] = run_in(
            student, fresh_python, grade, GRADER_SEED="", GITHUB_STEP_SUMMARY=str(summary)
        )
        assert summary.read_text().startswith("## Autograder:")
        page = (student / bundles.HTML_REPORT).read_text()
        assert page.startswith("<!DOCTYPE html>")
    assert results["partial"].returncode == 1, "below --fail-under: the check fails"
    assert results["complete"].returncode == 0, results["complete"].stderr[-500:]


def test_the_classroom50_autograder_writes_what_its_runner_accepts(bundle, fresh_python, tmp_path):
    """Runs autograder.py as Classroom 50's runner does (cwd the student's checkout, its
    environment variables, $GITHUB_OUTPUT) and checks result.json against the rules the runner
    documents and enforces for classroom50/result/v1."""
    folder = tmp_path / "autograders" / "conv"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "classroom50", str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shipped = {p.name for p in folder.iterdir()}
    assert {"autograder.py", "grader", "config.yaml", "runtime.json"} <= shipped
    assert {"requirements.txt", "requirements-book.txt"} <= shipped
    runtime = json.loads((folder / "runtime.json").read_text())
    # The runner's allow-list of runtime keys and its patterns for versions and apt packages.
    assert set(runtime) <= {"runs-on", "container", "python", "node", "java", "go", "rust", "apt"}
    assert re.fullmatch(r"[A-Za-z0-9._+-]{1,32}", runtime["python"])
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]{0,63}", p) for p in runtime["apt"])
    packed = tmp_path / "bundle.tar.gz"
    shutil.make_archive(str(packed).removesuffix(".tar.gz"), "gztar", folder)
    assert packed.stat().st_size < 10 * 2**20, "the runner fetches at most 10 MB"

    student = student_copy(bundle, tmp_path / "checkout", ("conv_layer.py",))
    (student / "grader" / "grading.py").write_text("raise SystemExit('the student copy ran')\n")
    outputs = tmp_path / "github_output"
    env = {
        "CLASSROOM": "dl-fall", "ASSIGNMENT": "conv",
        "SUBMISSION_TAG": "submit/2026-12-01T10-00-00Z-abc1234",
        "COMMIT_URL": "https://example.invalid/c", "RELEASE_URL": "https://example.invalid/r",
        "REVIEW_URL": "", "GITHUB_OUTPUT": str(outputs), "CLASSROOM50_BUNDLE_DIR": str(folder),
    }  # fmt: skip
    graded = run_in(student, fresh_python, f"python {folder / 'autograder.py'}", **env)
    assert graded.returncode == 0, graded.stdout[-500:] + graded.stderr[-1500:]
    result = json.loads((student / "result.json").read_text())
    assert result["schema"] == "classroom50/result/v1"
    assert (result["classroom"], result["assignment"]) == ("dl-fall", "conv")
    assert result["submission"].startswith("submit/")
    assert all(isinstance(result[k], str) and result[k] for k in ("commit", "release", "review",
                                                                  "datetime"))  # fmt: skip
    for key in ("score", "max-score"):
        assert type(result[key]) is int and result[key] >= 0
    assert result["score"] <= result["max-score"] == 100
    for test in result["tests"]:
        assert isinstance(test["test-name"], str) and test["test-name"]
        assert type(test["passed"]) is bool
        assert type(test["score"]) is int and type(test["max-score"]) is int
        assert 0 <= test["score"] <= test["max-score"]
    assert result["score"] == sum(t["score"] for t in result["tests"])
    passed = {t["test-name"] for t in result["tests"] if t["passed"]}
    assert passed == {"corr2d", "Conv2D", "learn_kernel"}
    assert (student / "release-body.md").read_text().startswith("## Autograder:")
    lines = outputs.read_text().splitlines()
    assert lines[0] == "status=failure" and lines[1] == "summary=d2l-conv autograde: 40/100"


def test_prairielearn_runs_its_entrypoint_on_a_grade_folder(tmp_path):
    out = tmp_path / "pl"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "prairielearn", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    options = json.loads((out / "info.json").read_text())["externalGradingOptions"]
    # The keys PrairieLearn's externalGradingOptions documents; the timeout at most 600 s.
    assert set(options) <= {"enabled", "image", "entrypoint", "serverFilesCourse", "timeout",
                            "enableNetworking", "environment"}  # fmt: skip
    assert options["enabled"] is True and 0 < options["timeout"] <= 600
    dockerfile = (out / "image" / "Dockerfile").read_text()
    assert "--no-deps -r /tmp/requirements-book.txt" in dockerfile
    assert (out / "image" / "requirements-book.txt").read_text() == bundles.book_requirements()
    # Lay out /grade as the grader container sees it, and run the entrypoint.
    grade_root = tmp_path / "grade"
    shutil.copytree(out / "serverFilesCourse", grade_root / "serverFilesCourse")
    entrypoint = grade_root / options["entrypoint"].removeprefix("/grade/")
    assert entrypoint.stat().st_mode & 0o111
    (grade_root / "student").mkdir()
    write(grade_root / "student", "hw.py", solution_text())
    ran = subprocess.run(
        [str(entrypoint)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "GRADE_ROOT": str(grade_root), "PYTHON": sys.executable},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-1500:]
    results = json.loads((grade_root / "results" / "results.json").read_text())
    assert results["gradable"] is True and results["score"] == 1.0
    assert all(t["points"] == t["max_points"] for t in results["tests"])


def test_run_autograder_writes_gradescope_results(tmp_path):
    archive = tmp_path / "autograder.zip"
    subprocess.run(
        [sys.executable, "-m", "grader", "autograder-zip", str(archive)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in opened.infolist()}
        root = tmp_path / "autograder"
        opened.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt", "requirements-book.txt",
            "config.yaml"} <= set(names)  # fmt: skip
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any(name.startswith(("solutions", "tests")) for name in names)
    text = with_change(
        solution_text(),
        "corr2d(x, self.weight.data()) + self.bias.data()",
        "corr2d(x, self.weight.data())",
    )
    (root / "submission").mkdir()
    write(root / "submission", "hw.py", text)

    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert 0 < results["score"] < 100
    conv2d = [t for t in results["tests"] if t["name"].startswith("Conv2D:")]
    assert any(t["status"] == "failed" for t in conv2d)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert all(
        t["status"] == "passed" for t in results["tests"] if not t["name"].startswith("Conv2D:")
    )


def test_a_pytorch_course_bundles_the_pytorch_exercises_and_installs_pytorch(tmp_path):
    outdir = tmp_path / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(outdir), "--framework", "pytorch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((outdir / "config.yaml").read_text())["framework"] == "pytorch"
    exercises = (outdir / "exercises" / "conv_layer.py").read_text()
    assert "import torch" in exercises and "mxnet" not in exercises
    assert "NotImplementedError" in exercises
    assert (outdir / bundles.PYTORCH_REQUIREMENTS).read_text() == (
        ROOT / bundles.PYTORCH_REQUIREMENTS
    ).read_text()
    install = bundles.pytorch_install("config.yaml")
    assert install in (outdir / "Makefile").read_text().replace(".venv/bin/", "")
    for config, installs in (("framework: pytorch\n", True), ("framework: mxnet\n", False)):
        write(tmp_path, "config.yaml", config)
        shown = subprocess.run(
            ["bash", "-c", install.replace("python -m pip", "echo would-install")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert ("would-install" in shown.stdout) == installs


def test_the_prairielearn_image_installs_pytorch_for_a_pytorch_course(tmp_path):
    for framework in ("pytorch", "mxnet"):
        data = {**yaml.safe_load((ROOT / "config.yaml").read_text()), "framework": framework}
        config = write(tmp_path, f"{framework}.yaml", yaml.safe_dump(data))
        bundles.prairielearn_files(tmp_path / framework, config)
        image = tmp_path / framework / "image"
        assert f"ARG FRAMEWORK={framework}\n" in (image / "Dockerfile").read_text()
        assert (image / bundles.PYTORCH_REQUIREMENTS).exists()
