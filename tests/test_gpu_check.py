"""bench/gpu_check.py where no GPU is: its arguments, its refusal, its submissions, its
expectations on real reports (graded on the simulated GPU) and its table."""

import ast
import importlib.util
import subprocess
import sys

import pytest
from conftest import ROOT

from grader import cases
from grader.config import load_config
from grader.isolation import gpu_device_binds

SPEC = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
gpu_check = sys.modules.setdefault("gpu_check", importlib.util.module_from_spec(SPEC))
SPEC.loader.exec_module(gpu_check)

SOLUTIONS = ROOT / "solutions" / "pytorch"
STUBS = ROOT / "exercises" / "pytorch"


def test_arguments_default_to_a_batch_of_eight_on_at_most_as_many_cores():
    args = gpu_check.parse_arguments([])
    assert args.copies == 8 and 1 <= args.jobs <= 8
    assert (args.solutions, args.exercises) == (SOLUTIONS, STUBS)
    assert gpu_check.parse_arguments(["--copies", "3", "--jobs", "2"]).jobs == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--copies", "0"], "--copies: expected a number >= 1, got 0"),
        (["--jobs", "0"], "--jobs: expected a number >= 1, got 0"),
        (["--config", "missing.yaml"], "--config: missing.yaml does not exist"),
    ],
)
def test_bad_arguments_are_refused_by_name(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        gpu_check.parse_arguments(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.skipif(bool(gpu_device_binds()), reason="this machine has NVIDIA device nodes")
def test_without_a_gpu_it_exits_with_status_2_and_says_why():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_check.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("gpu-check: no GPU is visible: torch.cuda.device_count() is 0")
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(bool(gpu_device_binds()), reason="this machine has NVIDIA device nodes")
def test_the_sandbox_probe_without_a_gpu_fails_with_cudas_own_error():
    with pytest.raises(gpu_check.CheckFailed) as failure:
        gpu_check.sandbox_probe(ROOT / "config.yaml")
    message = str(failure.value)
    assert message.startswith("CUDA does not start in the sandbox (status 1; memory limit: data,")
    assert "the host's GPU nodes: none" in message
    assert "Its stderr:\n" in message and "torch" in message.split("Its stderr:")[1]


def test_the_course_variants_are_valid_courses_on_their_devices(tmp_path):
    every = gpu_check.course_variant(ROOT / "config.yaml", ["cpu", "gpu"], tmp_path)
    cpu = gpu_check.course_variant(ROOT / "config.yaml", ["cpu"], tmp_path)
    original = load_config(ROOT / "config.yaml", cases.public_case_counts())
    for path, devices in ((every, ("cpu", "gpu")), (cpu, ("cpu",))):
        course = load_config(path, cases.public_case_counts())
        assert (course.devices, course.gpu, course.isolation) == (devices, "required", "strict")
        assert course.similarity.boilerplate == original.similarity.boilerplate
        assert course.exercises == original.exercises and course.limits == original.limits


def test_the_wrong_device_submission_changes_corr2d_only(tmp_path):
    folder = gpu_check.wrong_device_submission(SOLUTIONS, tmp_path / "wrong")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in SOLUTIONS.iterdir())
    changed = []
    for path in folder.iterdir():
        ours, theirs = (ast.parse(p.read_text()) for p in (path, SOLUTIONS / path.name))
        for new, old in zip(ours.body, theirs.body, strict=True):
            if ast.dump(new) != ast.dump(old):
                changed.append(new.name)
                assert ast.get_source_segment(path.read_text(), new) == (
                    gpu_check.WRONG_DEVICE_CORR2D.rstrip("\n")
                )
    assert changed == ["corr2d"]


@pytest.fixture(scope="module")
def simulated_reports(tmp_path_factory):
    """The solutions and the wrong-device submission graded on the CPU and the simulated GPU,
    as the check grades them on real ones."""
    scratch = tmp_path_factory.mktemp("gpu-check")
    config = gpu_check.course_variant(ROOT / "config.yaml", ["cpu", "gpu"], scratch)
    wrong = gpu_check.wrong_device_submission(SOLUTIONS, scratch / "wrong")
    return {
        name: gpu_check.grade(submission, "simulated", config, 240)[0]
        for name, submission in (("solutions", SOLUTIONS), ("wrong", wrong))
    }


def test_the_solutions_meet_the_full_marks_expectation_on_one_gpu(simulated_reports):
    report = simulated_reports["solutions"]
    assert gpu_check.devices_of(report) == "cpu, sim0"
    assert gpu_check.full_marks_on_every_device(report, gpus=1).held
    assert not gpu_check.full_marks_on_every_device(report, gpus=2).held  # one GPU is missing
    assert not gpu_check.nothing_for_stubs(report).held


def test_corr2d_made_on_the_cpu_is_caught_on_the_gpu_only(simulated_reports):
    report = simulated_reports["wrong"]
    caught = gpu_check.caught_on_the_gpu_only(report)
    assert caught.held, caught.detail
    assert "CPU tests failed: none" in caught.detail and "corr2d" in caught.detail
    assert not gpu_check.full_marks_on_every_device(report, gpus=1).held
    assert not gpu_check.caught_on_the_gpu_only(simulated_reports["solutions"]).held


def test_a_batch_gradebook_with_a_missing_or_failed_row_fails_the_expectation():
    row = {"id": "student00", "total": "100.0", "max": "100.0", "status": "ok"}
    assert gpu_check.whole_class_full_marks([row, row], 2, "cpu").held
    assert not gpu_check.whole_class_full_marks([row], 2, "cpu").held
    failed = {**row, "total": "0.0", "status": "error: the worker did not start"}
    assert not gpu_check.whole_class_full_marks([row, failed], 2, "cpu").held


def test_the_table_shows_each_run_and_the_ratios():
    rows = [
        gpu_check.Row("bare probe: CUDA's start in the sandbox", "cuda:0", "-", 2.5),
        gpu_check.Row("`solutions/pytorch`", "cpu, gpu0", "100/100", 12.0),
        gpu_check.Row("`solutions/pytorch`", "cpu", "100/100", 8.0),
    ]
    table = gpu_check.render_table(rows, (12.0, 8.0), (3.0, 2.0), 8, (1.5, 2.25))
    assert table == (
        "| what | devices | score | seconds |\n"
        "| --- | --- | --- | --- |\n"
        "| bare probe: CUDA's start in the sandbox | cuda:0 | - | 2.50 |\n"
        "| `solutions/pytorch` | cpu, gpu0 | 100/100 | 12.00 |\n"
        "| `solutions/pytorch` | cpu | 100/100 | 8.00 |\n"
        "\n"
        "- GPU/CPU, one submission (solutions, all devices / CPU only): 1.50x "
        "(12.00 s / 8.00 s)\n"
        "- GPU/CPU per submission, a batch of 8: 1.50x (3.00 s / 2.00 s per submission)\n"
        "- CUDA start per process: 0.75 s (a fresh `import torch` 1.50 s; with "
        "`torch.zeros(1, device='cuda'); torch.cuda.synchronize()` 2.25 s)\n"
    )
