"""Verdicts on hand-made answers: what a student sees for each kind of wrong answer."""

import numpy as np
import pytest

from grader.cases import EXERCISES
from grader.checks import judge
from grader.config import Tolerance
from grader.sandbox import SandboxResult

TOLERANCE = Tolerance(1e-4, 1e-4)
CORR2D = EXERCISES["corr2d"]
SHAPES = EXERCISES["conv_output_shape"]
PUBLIC = CORR2D.public_cases()[0]  # the 3x3 example: [[19, 25], [37, 43]]
EXPECTED = np.array([[19.0, 25.0], [37.0, 43.0]])


def answer(value, type_name="mxnet.numpy.ndarray", context="cpu(0)", case=PUBLIC, **extra):
    array = None if value is None else np.asarray(value)
    inputs_after = extra.pop("inputs_after", dict(case.inputs))
    return SandboxResult(
        "returned",
        type_name=type_name,
        array=array,
        context=context,
        inputs_after=inputs_after,
        **extra,
    )


def verdict(result, case=PUBLIC, expected=EXPECTED, exercise=CORR2D, device="cpu"):
    return judge(exercise, case, expected, result, TOLERANCE, device)


def test_a_right_answer_passes_silently():
    result = verdict(answer(EXPECTED.astype(np.float32)))
    assert (result.status, result.message) == ("passed", "")


def test_a_wrong_value_names_the_place_and_shows_the_public_input():
    got = EXPECTED.copy()
    got[1, 0] = 40
    result = verdict(answer(got))
    assert result.status == "failed"
    assert "1 of 4 values of the result are off" in result.message
    assert "largest difference is 3 at [1, 0]" in result.message
    assert "X = [[0., 1., 2.]," in result.message and "expected [[19., 25.]," in result.message


def test_a_wrong_shape_is_never_reshaped():
    result = verdict(answer(EXPECTED.reshape(4)))
    assert result.status == "failed"
    assert "wrong shape: expected (2, 2), got (4,)" in result.message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_never_pass(bad):
    got = EXPECTED.copy()
    got[0, 1] = bad
    result = verdict(answer(got))
    assert result.status == "failed" and f"{bad} at [0, 1]" in result.message


def test_a_list_is_graded_by_value_with_a_note():
    result = verdict(answer(EXPECTED.tolist(), type_name="builtins.list", context=None))
    assert result.status == "passed"
    assert "note: returned a list, not an mxnet.np array; graded it by value" in result.message


def test_none_and_text_are_not_numbers():
    none = verdict(answer(None, type_name="builtins.NoneType", context=None))
    assert (
        none.status == "failed"
        and "returned None, not numbers: is a `return` missing?" in none.message
    )
    text = verdict(answer(None, type_name="builtins.str", context=None))
    assert "returned a str, not numbers" in text.message


def test_on_a_gpu_an_answer_in_cpu_memory_fails_and_says_so():
    on_cpu = verdict(answer(EXPECTED, context="cpu(0)"), device="gpu0")
    assert on_cpu.status == "failed"
    assert (
        "works on the CPU only: the result was created on cpu(0), the input was on gpu(0)"
        in on_cpu.message
    )
    assert on_cpu.diagnosis.startswith("create new arrays on the input's device")
    numpy = verdict(answer(EXPECTED, type_name="numpy.ndarray", context=None), device="gpu0")
    assert numpy.status == "failed" and "lives in CPU memory" in numpy.message
    assert verdict(answer(EXPECTED, context="gpu(0)"), device="gpu0").status == "passed"


def test_a_mutated_input_fails_even_with_the_right_answer():
    changed = {"X": np.zeros((3, 3), np.float32), "K": PUBLIC.inputs["K"]}
    result = verdict(answer(EXPECTED, inputs_after=changed))
    assert result.status == "failed" and "changed its input X in place" in result.message


def test_hidden_failures_describe_the_input_without_values():
    case = CORR2D.hidden_cases(np.random.default_rng(0), 1, None)[0]
    expected = np.full((1, 1), 123.456)
    result = verdict(answer([[0.0]], case=case), case=case, expected=expected)
    assert result.status == "failed" and "hidden case (" in result.message
    assert "123.4" not in result.message and "X =" not in result.message


@pytest.mark.parametrize(
    "status, words, kind",
    [
        ("missing", "corr2d is not defined in the submission", "failed"),
        ("not_implemented", "corr2d is not implemented yet", "failed"),
        ("raised", "corr2d(X, K) raised ValueError: boom", "error"),
        ("timeout", "did not finish", "timeout"),
        ("crashed", "exited with status 0", "error"),
    ],
)
def test_calls_that_did_not_return_map_to_statuses(status, words, kind):
    message = {
        "raised": "ValueError: boom",
        "timeout": "did not finish within 3 s",
        "crashed": "the process running your code exited with status 0",
    }.get(status, "")
    result = verdict(SandboxResult(status, message))
    assert result.status == kind and words in result.message


def test_shapes_must_be_whole_numbers_in_a_pair():
    case = SHAPES.public_cases()[1]
    expected = np.array([4, 4])
    assert (
        verdict(answer((4, 4), "builtins.tuple", None, case), case, expected, SHAPES).status
        == "passed"
    )
    floats = verdict(answer([4.0, 4.0], "builtins.list", None, case), case, expected, SHAPES)
    assert floats.status == "passed" and "returned a list, not a tuple" in floats.message
    wrong = verdict(answer((8, 8), "builtins.tuple", None, case), case, expected, SHAPES)
    assert wrong.status == "failed" and "expected (4, 4), got (8, 8)" in wrong.message
    half = verdict(answer((4.5, 4), "builtins.tuple", None, case), case, expected, SHAPES)
    assert "expected whole numbers" in half.message
    triple = verdict(answer((4, 4, 1), "builtins.tuple", None, case), case, expected, SHAPES)
    assert "expected a (height, width) pair" in triple.message


NDARRAY = "mxnet.ndarray.ndarray.NDArray"


def test_an_ndarray_or_np_array_passes_in_either_api_without_a_note():
    for type_name in (NDARRAY, "mxnet.numpy.ndarray"):
        result = judge(
            CORR2D, PUBLIC, EXPECTED, answer(EXPECTED, type_name), TOLERANCE, "cpu", "nd"
        )
        assert (result.status, result.message) == ("passed", "")


def test_nd_code_sees_its_values_printed_the_way_nd_prints_them():
    got = EXPECTED.copy()
    got[1, 0] = 40
    result = judge(CORR2D, PUBLIC, EXPECTED, answer(got, NDARRAY), TOLERANCE, "cpu", "nd")
    assert "X = [[0. 1. 2.]\n" in result.message
    assert "expected [[19. 25.]\n          [37. 43.]]\n         <NDArray 2x2 @cpu(0)>" in (
        result.message
    )
    listed = judge(
        CORR2D, PUBLIC, EXPECTED, answer(EXPECTED.tolist(), "builtins.list"), TOLERANCE, "cpu", "nd"
    )
    assert "note: returned a list, not an NDArray; graded it by value" in listed.message
