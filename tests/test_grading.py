"""Whole submissions graded end to end: correct, stubbed, buggy, broken, notebook, folder."""

import json
import shutil
from dataclasses import replace

import nbformat
import pytest
from bugs import BUGS, BUILT_ON_CORR2D, DIAGNOSES, buggy_text
from conftest import (
    ALL_NAMES,
    EXERCISES,
    SOLUTIONS,
    full_marks,
    grade_on_cpu,
    grade_pooled,
    scores,
    small_config,
    solution_text,
    with_change,
    write,
)

from grader.config import only_exercises
from grader.exports import render_json
from grader.grading import DevicePlan, grade, plan_devices

HARD_CODED = """
def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    answers = {((3, 3), (1, 1), (1, 1)): (8, 8), ((3, 3), (1, 1), (2, 2)): (4, 4),
               ((3, 5), (0, 1), (3, 4)): (2, 2)}
    return answers.get((tuple(kernel_size), tuple(padding), tuple(strides)), (8, 8))
"""


@pytest.fixture(scope="module")
def solution_report(tmp_path_factory):
    return grade_on_cpu(SOLUTIONS)


def test_the_solutions_score_full_marks(solution_report):
    assert solution_report.score == solution_report.max_score == 100
    assert full_marks(solution_report) == ALL_NAMES
    assert all(t.status == "passed" for e in solution_report.exercises for t in e.tests)
    hidden = [t for e in solution_report.exercises for t in e.tests if t.visibility == "hidden"]
    assert len(hidden) >= 60


def test_a_correct_submission_gets_no_diagnosis(solution_report):
    assert not any("likely cause" in t.message for e in solution_report.exercises for t in e.tests)


def test_the_generated_stubs_score_zero_saying_not_implemented():
    report = grade_pooled(EXERCISES)
    assert report.score == 0 and report.max_score == 100
    for exercise in report.exercises:
        assert exercise.defined_at is not None
        assert all("is not implemented yet" in t.message for t in exercise.tests)


@pytest.mark.parametrize("bug, losers, old, new", BUGS, ids=[b[0] for b in BUGS])
def test_a_realistic_bug_costs_points_only_where_it_belongs(tmp_path, bug, losers, old, new):
    path = write(tmp_path, f"{bug}.py", with_change(solution_text(), old, new))
    report = grade_pooled(path, small_config(hidden_cases=3))
    assert full_marks(report) == ALL_NAMES - losers, scores(report)
    messages = []
    for exercise in report.exercises:
        if exercise.name in losers:
            failing = [t for t in exercise.tests if t.status != "passed"]
            assert failing and all(t.message for t in failing)
            messages += [t.message for t in failing]
    phrases = DIAGNOSES[bug] if isinstance(DIAGNOSES[bug], tuple) else (DIAGNOSES[bug],)
    assert any(p in m for p in phrases for m in messages), messages[:3]
    for exercise in report.exercises:
        if exercise.example is not None:  # shown in full, so it must fail the same way
            first = next(t for t in exercise.tests if t.status != "passed")
            assert exercise.example.diagnosis == first.diagnosis
            assert exercise.example.score == exercise.example.max_score == 0


def test_a_bug_in_corr2d_is_pointed_out_in_the_exercises_built_on_it(tmp_path):
    path = write(tmp_path, "flip.py", buggy_text("flipped-kernel"))
    report = {e.name: e for e in grade_pooled(path, small_config()).exercises}
    assert any("builds on corr2d" in note for note in report["corr2d_multi_in"].notes)
    assert any("builds on corr2d" in note for note in report["Conv2D"].notes)
    assert not report["corr2d"].notes


def test_hard_coded_public_answers_pass_public_cases_only(tmp_path):
    path = write(tmp_path, "cheat.py", solution_text() + HARD_CODED)
    exercise = {e.name: e for e in grade_pooled(path).exercises}["conv_output_shape"]
    public = [t for t in exercise.tests if t.visibility == "visible"]
    hidden = [t for t in exercise.tests if t.visibility == "hidden"]
    assert all(t.status == "passed" for t in public)
    assert sum(t.status == "failed" for t in hidden) >= len(hidden) - 2
    assert exercise.score < exercise.max_score / 3


def test_hidden_failures_never_print_the_expected_values(tmp_path):
    path = write(tmp_path, "bias.py", buggy_text("bias-missing"))
    exercise = {e.name: e for e in grade_pooled(path).exercises}["Conv2D"]
    failed_hidden = [t for t in exercise.tests if t.visibility == "hidden" and t.status != "passed"]
    assert failed_hidden
    for test in failed_hidden:
        assert "expected [" not in test.message and "hidden case (" in test.message
    public = [t for t in exercise.tests if t.visibility == "visible" and t.status == "failed"]
    assert public and "expected [[20" in public[0].message


def test_a_notebook_submission_is_graded_like_a_python_file(tmp_path):
    notebook = nbformat.v4.new_notebook()
    for name in ("conv_layer.py", "padding_and_strides.py", "channels.py"):
        text = (SOLUTIONS / name).read_text().replace("from conv_layer import corr2d\n", "")
        notebook.cells += [nbformat.v4.new_code_cell(cell) for cell in text.split("# %%")]
    notebook.cells.insert(0, nbformat.v4.new_code_cell("!pip install mxnet\n%matplotlib inline"))
    notebook.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('a broken cell')"))
    path = tmp_path / "work.ipynb"
    nbformat.write(notebook, path)
    report = grade_pooled(path, small_config())
    assert full_marks(report) == ALL_NAMES
    assert any("work.ipynb, cell 4, line 1: RuntimeError: a broken cell" in n for n in report.notes)


def test_a_folder_like_exercises_is_graded_with_cross_file_imports(tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(EXERCISES, folder)
    for name in ("conv_layer.py", "channels.py"):  # the student finished two files, in .py
        shutil.copy(SOLUTIONS / name, folder / name)
    report = grade_pooled(folder, small_config())
    done = {
        "corr2d",
        "Conv2D",
        "learn_kernel",
        "corr2d_multi_in",
        "corr2d_multi_in_out",
        "corr2d_multi_in_out_1x1",
    }
    assert full_marks(report) == done
    assert not any("is defined in" in note for note in report.notes), "stubs beside it: no note"
    corr2d = next(e for e in report.exercises if e.name == "corr2d")
    assert corr2d.defined_at == "conv_layer.py, line 21"


def test_in_a_folder_a_later_finished_definition_wins_with_a_note(tmp_path):
    write(tmp_path, "a_first.py", solution_text())
    write(tmp_path, "b_second.py", "from mxnet import np\ndef corr2d(X, K):\n    return X\n")
    report = grade_pooled(tmp_path, small_config())
    assert full_marks(report) == ALL_NAMES - BUILT_ON_CORR2D
    assert any("grading the one at b_second.py, line 2" in n for n in report.notes)


BROKEN = [
    ("syntax-error.py", "def corr2d(X, K)\n    return X\n", "SyntaxError"),
    ("empty.py", "", None),
    ("prose.txt", "corr2d slides a kernel over the input.", "not a .py file"),
    ("garbage.py", b"\x00\xff\xfe binary", "not UTF-8"),
    ("bad-notebook.ipynb", "{", "not a readable notebook"),
]


@pytest.mark.parametrize("name, content, words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_submissions_give_a_complete_report_with_a_reason(tmp_path, name, content, words):
    report = grade_pooled(write(tmp_path, name, content), small_config())
    assert report.score == 0 and report.max_score == 100
    assert {e.name for e in report.exercises} == ALL_NAMES
    assert all(e.defined_at is None for e in report.exercises)
    assert all("is not defined" in t.message for e in report.exercises for t in e.tests)
    if words:
        assert any(words in note for note in report.notes), report.notes


def test_code_after_a_failing_import_is_still_graded(tmp_path):
    text = "import tensorflow_for_grading_xyz\n" + solution_text()
    report = grade_pooled(write(tmp_path, "imports.py", text), small_config())
    assert full_marks(report) == ALL_NAMES
    assert any("No module named 'tensorflow_for_grading_xyz'" in n for n in report.notes)


def test_missing_names_score_zero_and_the_rest_is_graded(tmp_path):
    text = solution_text().split("class Conv2D")[0]  # only corr2d survives
    report = grade_pooled(write(tmp_path, "partial.py", text), small_config())
    assert full_marks(report) == {"corr2d"}
    missing = {e.name for e in report.exercises if e.defined_at is None}
    assert missing == ALL_NAMES - {"corr2d"}


def test_an_endless_loop_in_one_exercise_times_out_only_that_exercise(tmp_path):
    """The demo at the end of the file calls the looping function too: loading skips it."""
    text = with_change(
        solution_text(),
        "    c_i, h, w = X.shape\n",
        "    while True:\n        pass\n    c_i, h, w = X.shape\n",
    )
    report = grade_on_cpu(write(tmp_path, "loop.py", text), small_config(load_seconds=4))
    exercise = {e.name: e for e in report.exercises}["corr2d_multi_in_out_1x1"]
    assert [t.status for t in exercise.tests] == ["timeout"] * len(exercise.tests)
    assert "did not finish within 3 s" in exercise.tests[0].message
    assert "not run: public-1 timed out" in exercise.tests[1].message
    assert full_marks(report) == ALL_NAMES - {"corr2d_multi_in_out_1x1"}
    assert any("loop.py, line" in n and "this statement was skipped" in n for n in report.notes)


def test_an_endless_loop_at_top_level_is_skipped_and_the_rest_graded(tmp_path):
    text = solution_text() + "\nwhile True:\n    pass\n"
    report = grade_on_cpu(write(tmp_path, "hang.py", text), small_config(load_seconds=3))
    assert full_marks(report) == ALL_NAMES
    line = len(solution_text().splitlines()) + 2
    assert any(f"hang.py, line {line}: not run" in n for n in report.notes)


def test_a_load_that_keeps_hanging_gives_up_with_timeouts(tmp_path):
    text = solution_text() + "\n" + "\n".join(f"while True: x{i} = {i}" for i in range(4))
    report = grade_on_cpu(
        write(tmp_path, "hang.py", text), small_config(load_seconds=2, restarts=2)
    )
    assert report.score == 0
    assert all(t.status == "timeout" for e in report.exercises for t in e.tests)
    assert any("took longer than 2 s (still running hang.py, line" in n for n in report.notes)


def test_the_same_seed_gives_the_same_report_apart_from_timings(tmp_path):
    path = write(tmp_path, "bias.py", buggy_text("bias-missing"))
    config = small_config()

    def without_timings(report):
        data = json.loads(render_json(report))
        data.pop("seconds")
        data.pop("load_seconds")
        for exercise in data["exercises"]:
            for test in [*exercise["tests"], exercise["example"] or {"seconds": 0}]:
                test.pop("seconds")
        return data

    first = without_timings(grade_pooled(path, config, seed=99))
    assert first == without_timings(grade_pooled(path, config, seed=99))
    assert first["seed"] == 99
    assert first != without_timings(grade_pooled(path, config, seed=100))


def test_gpu_tests_are_skipped_without_a_gpu_and_not_counted(course):
    assert plan_devices(course, "all", gpus=0) == [
        DevicePlan("cpu"),
        DevicePlan("gpu", "no GPU: MXNet sees none on this machine", False),
    ]
    assert plan_devices(course, "all", gpus=2)[1:] == [DevicePlan("gpu0"), DevicePlan("gpu1")]
    assert plan_devices(course, "cpu", gpus=2) == [DevicePlan("cpu")]


def test_required_gpu_tests_count_and_fail_without_a_gpu(course):
    (cpu, gpu) = plan_devices(replace(course, gpu="required"), None, gpus=0)
    assert gpu.counted and "gpu: required" in gpu.skip_reason


def test_skipped_gpu_tests_appear_with_zero_weight(tmp_path):
    report = grade(SOLUTIONS, small_config(), device="all", isolation="strict")
    skipped = [t for e in report.exercises for t in e.tests if t.status == "skipped"]
    if not skipped:
        pytest.skip("this machine has a GPU")
    assert all(t.max_score == 0 and t.device == "gpu" for t in skipped)
    assert report.score == report.max_score == 100


# -- the simulated GPU: the whole device path on the CPU ------------------------------------------

WRONG_DEVICE_CORR2D = {  # corr2d with its result on a fixed device, in each edition
    "mxnet": (
        "Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))",
        "Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), ctx=mx.cpu())",
        "import mxnet as mx\n",
    ),
    "pytorch": (
        "Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), device=X.device)",
        "Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), device='cpu')",
        "",
    ),
}


def exercise_of(report, name):
    return next(e for e in report.exercises if e.name == name)


def edition_corr2d(framework: str) -> str:
    folder = SOLUTIONS if framework == "mxnet" else SOLUTIONS / "pytorch"
    return (folder / "conv_layer.py").read_text()


@pytest.mark.parametrize("framework", ["mxnet", "pytorch"])
def test_on_the_simulated_gpu_a_result_left_on_the_cpu_fails_those_tests_only(tmp_path, framework):
    if framework == "pytorch":
        pytest.importorskip("torch")
    old, new, header = WRONG_DEVICE_CORR2D[framework]
    text = header + with_change(edition_corr2d(framework), old, new)
    config = replace(only_exercises(small_config(), ["corr2d", "Conv2D"]), framework=framework)
    report = grade(write(tmp_path, "student.py", text), config, device="simulated")
    corr2d = exercise_of(report, "corr2d")
    on_cpu = [t for t in corr2d.tests if t.device == "cpu"]
    on_gpu = [t for t in corr2d.tests if t.device == "sim0"]
    assert on_cpu and all(t.status == "passed" for t in on_cpu)
    assert on_gpu and all(t.status == "failed" and t.max_score > 0 for t in on_gpu)
    assert all(t.name.endswith("[gpu0, simulated]") for t in on_gpu)
    assert "works on the CPU only: the result was created on" in on_gpu[0].message
    assert on_gpu[0].diagnosis.startswith("create new")
    assert 0 < corr2d.score < corr2d.max_score
    assert any("simulated" in note for note in report.notes)
    # Conv2D calls the same corr2d: on the GPU its result is on the CPU too (MXNet), or adding
    # the bias on the GPU to it raises (PyTorch, as CUDA does).
    conv2d = exercise_of(report, "Conv2D")
    assert all(t.status != "passed" for t in conv2d.tests if t.device == "sim0")


@pytest.mark.parametrize("framework", ["mxnet", "pytorch"])
def test_on_the_simulated_gpu_the_solutions_pass_every_test(framework):
    if framework == "pytorch":
        pytest.importorskip("torch")
    folder = SOLUTIONS if framework == "mxnet" else SOLUTIONS / "pytorch"
    config = replace(small_config(hidden_cases=1), framework=framework)
    report = grade(folder, config, device="simulated", isolation="strict")
    assert {t.device for e in report.exercises for t in e.tests} == {"cpu", "sim0"}
    assert all(t.status == "passed" for e in report.exercises for t in e.tests)
    assert report.score == report.max_score == 100
