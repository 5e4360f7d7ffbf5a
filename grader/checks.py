"""Judge one test: the student's answer (a SandboxResult) against the expected value.

Runs in the grader on plain numpy arrays. A message says what was wrong in terms a student
can act on; for hidden cases it describes the input by size and kind only and never prints
expected values.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from grader import diagnosis, frameworks
from grader.cases import Case, Exercise
from grader.config import Tolerance
from grader.report import Comparison
from grader.sandbox import SandboxResult

NOT_IMPLEMENTED = "is not implemented yet"
MAX_COMPARED_VALUES = 400  # per array, for the heatmaps of public cases


@dataclass(frozen=True)
class Verdict:
    status: str  # passed, failed, error or timeout
    message: str
    diagnosis: str = ""  # the likely mistake, also in the message


def show(array: np.ndarray, label: str = "", api: str = "np", context: str = "cpu(0)") -> str:
    """label followed by the array, its later lines aligned under the first, printed the way
    the student's API prints it: `[[1., 2.]]` for np, `[[1. 2.]]` and `<NDArray 1x2 @cpu(0)>`
    for nd, `tensor([[1., 2.]])` for PyTorch."""
    array = np.asarray(array)
    opening = "tensor(" if api == "torch" else ""
    text = np.array2string(
        array,
        precision=4,
        suppress_small=True,
        separator=" " if api == "nd" else ", ",
        max_line_width=100,
        threshold=200,
        prefix=label + opening,
    )
    if opening:
        text = f"{opening}{text})"
    if api == "nd" and array.ndim:
        shape = "x".join(str(n) for n in array.shape)
        text += f"\n{' ' * len(label)}<NDArray {shape} @{context}>"
    return label + text


@dataclass(frozen=True)
class Printing:
    """How a test's messages print arrays: in the student's API, on the test's device."""

    api: str = "np"
    context: str = "cpu(0)"

    def show(self, array: np.ndarray, label: str = "") -> str:
        return show(array, label, self.api, self.context)

    def describe(self, case: Case) -> str:
        return describe(case, self.api, self.context)


def position(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def describe(case: Case, api: str = "np", context: str = "cpu(0)") -> str:
    """The input, in full for a public case and by size and kind for a hidden one."""
    if not case.public:
        return f"hidden case ({case.description})"
    parts = [show(value, f"{name} = ", api, context) for name, value in case.inputs.items()]
    parts += [
        f"{name} = {tuple(v) if isinstance(v, list) else v}" for name, v in case.params.items()
    ]
    what = "public case" if case.visibility == "visible" else "small example"
    return f"{what}: {case.description}\n" + textwrap.indent("\n".join(parts), "  ")


TYPE_DESCRIPTIONS = {
    "builtins.NoneType": "None",
    **{
        kind: description
        for framework in frameworks.FRAMEWORKS
        for kind, description in frameworks.backend(framework).ARRAY_DESCRIPTIONS.items()
    },
    "torch.Size": "a torch.Size",
    "numpy.ndarray": "a NumPy array",
    "builtins.list": "a list",
    "builtins.tuple": "a tuple",
}


def friendly_type(type_name: str) -> str:
    return TYPE_DESCRIPTIONS.get(type_name, f"a {type_name.removeprefix('builtins.')}")


def judge(
    exercise: Exercise,
    case: Case,
    expected: np.ndarray,
    result: SandboxResult,
    tolerance: Tolerance,
    device: str,
    api: str = "np",
    framework: str = "mxnet",
) -> Verdict:
    """The verdict for one test of one case on one device; api is the array API the
    student's code is written in, which the messages print arrays in."""
    backend = frameworks.backend(framework)
    printed = Printing(api, backend.context_name(device))
    failed_call = judge_call(exercise, result)
    if failed_call is not None:
        if result.status == "raised":  # the input that made it raise
            failed_call = Verdict(
                failed_call.status, f"{printed.describe(case)}\n{failed_call.message}"
            )
        return with_cause(failed_call, likely_error_cause(exercise, case, result))
    notes = []
    got = result.array
    if got is None:
        hint = ": is a `return` missing?" if result.type_name == "builtins.NoneType" else ""
        return Verdict(
            "failed",
            f"{printed.describe(case)}\nreturned {friendly_type(result.type_name)}, "
            f"not numbers{hint}",
        )
    wanted_types = (
        backend.SHAPE_TYPES if exercise.result == "shape" else backend.ACCEPTED_ARRAY_TYPES
    )
    if result.type_name not in wanted_types:
        wanted = wanted_types[0] if exercise.result == "shape" else backend.ARRAY_TYPES[api]
        notes.append(
            f"note: returned {friendly_type(result.type_name)}, not "
            f"{friendly_type(wanted)}; graded it by value"
        )
    if exercise.result != "shape" and device != "cpu":
        wrong_device = judge_device(result, device, backend)
        if wrong_device:
            message, cause = wrong_device
            return with_cause(Verdict("failed", f"{printed.describe(case)}\n{message}"), cause)
    if exercise.result == "shape":
        verdict = judge_shape_tuple(case, expected, got, printed)
    else:
        verdict = judge_values(exercise, case, expected, got, tolerance, printed)
    if verdict.status == "passed":
        verdict = judge_inputs_unchanged(case, result, printed) or verdict
    else:
        verdict = with_cause(verdict, likely_cause(exercise, case, expected, got))
    message = "\n".join([verdict.message, *notes]).strip()
    return Verdict(verdict.status, message, verdict.diagnosis)


def with_cause(verdict: Verdict, cause: str | None) -> Verdict:
    if not cause:
        return verdict
    return Verdict(verdict.status, f"{verdict.message}\nlikely cause: {cause}", cause)


def likely_cause(
    exercise: Exercise, case: Case, expected: np.ndarray, got: np.ndarray
) -> str | None:
    """A diagnosis of a wrong answer; a hypothesis that cannot be tested is no diagnosis."""
    try:
        if exercise.result == "shape":
            return diagnosis.diagnose_shape(case, expected, got.reshape(-1))
        if exercise.result == "kernel":
            return diagnosis.diagnose_kernel(case, got)
        return diagnosis.diagnose_array(exercise.name, case, expected, got)
    except (ValueError, TypeError, IndexError, FloatingPointError):
        return None


def likely_error_cause(exercise: Exercise, case: Case, result: SandboxResult) -> str | None:
    """For an exception: a module that skipped nn.Module's own __init__, a reshape that only
    fits when the channel counts are equal."""
    if result.status == "raised" and "before Module.__init__() call" in result.message:
        return (
            f"{exercise.name}.__init__ must call super().__init__() before it assigns "
            "parameters: nn.Module keeps them in what its own __init__ sets up"
        )
    X, K = case.inputs.get("X"), case.inputs.get("K")
    if (
        result.status == "raised"
        and exercise.name == "corr2d_multi_in_out_1x1"
        and X is not None
        and K is not None
        and X.shape[0] != K.shape[0]
        and "shape" in result.message.lower()
    ):
        return (
            "a reshape uses c_i where it needs c_o (or the reverse), which works only when "
            "both are equal: X is (c_i, h * w), K is (c_o, c_i), the result (c_o, h, w)"
        )
    return None


def judge_call(exercise: Exercise, result: SandboxResult) -> Verdict | None:
    """A verdict when the call itself did not return normally, else None."""
    if result.status == "returned":
        return None
    if result.status == "missing":
        return Verdict("failed", f"{exercise.name} is not defined in the submission")
    if result.status == "not_implemented":
        return Verdict(
            "failed", f"{exercise.name} {NOT_IMPLEMENTED} (it raises NotImplementedError)"
        )
    if result.status in ("interface", "too_large"):
        return Verdict("failed", result.message)
    if result.status == "timeout":
        return Verdict("timeout", result.message)
    if result.status == "raised":
        return Verdict("error", f"{exercise.call} raised {result.message}")
    return Verdict("error", result.message)


def judge_device(result: SandboxResult, device: str, backend) -> tuple[str, str] | None:
    """(message, diagnosis) when the result is not on the input's device."""
    expected_context = backend.context_name(device)
    if result.context == expected_context:
        return None
    if result.context is None:
        message = (
            f"works on the CPU only: the result is {friendly_type(result.type_name)}, which "
            f"lives in CPU memory; the input was {backend.ARRAY_DESCRIPTION} on "
            f"{expected_context}"
        )
    else:
        message = (
            f"works on the CPU only: the result was created on {result.context}, the input "
            f"was on {expected_context}"
        )
    return message, backend.SAME_DEVICE_HINT


def judge_values(
    exercise: Exercise,
    case: Case,
    expected: np.ndarray,
    got: np.ndarray,
    tolerance: Tolerance,
    printed: Printing = Printing(),
) -> Verdict:
    intro = printed.describe(case)
    if got.shape != expected.shape:
        return Verdict(
            "failed", f"{intro}\nwrong shape: expected {expected.shape}, got {got.shape}"
        )
    got64 = got.astype(np.float64)
    bad = ~np.isfinite(got64)
    if bad.any():
        where = position(np.argwhere(bad)[0])
        return Verdict(
            "failed", f"{intro}\nthe result contains {got64[tuple(np.argwhere(bad)[0])]} at {where}"
        )
    close = np.isclose(got64, expected, rtol=tolerance.rtol, atol=tolerance.atol)
    if close.all():
        return Verdict("passed", "")
    difference = np.abs(got64 - expected)
    worst = np.unravel_index(int(np.argmax(difference)), difference.shape)
    allowed = f"rtol {tolerance.rtol:g}, atol {tolerance.atol:g}"
    what = "learned kernel" if exercise.result == "kernel" else "result"
    lines = [
        intro,
        f"{int((~close).sum())} of {close.size} values of the {what} are off "
        f"(allowed: {allowed}); the largest difference is "
        f"{difference[worst]:.4g} at {position(worst)}",
    ]
    if case.public:
        lines += [printed.show(expected, "expected "), printed.show(got, "got      ")]
    return Verdict("failed", "\n".join(lines))


def judge_shape_tuple(
    case: Case, expected: np.ndarray, got: np.ndarray, printed: Printing = Printing()
) -> Verdict:
    intro = printed.describe(case)
    flat = got.reshape(-1) if got.ndim else got.reshape(1)
    if got.ndim != 1 or flat.size != expected.size:
        return Verdict(
            "failed",
            f"{intro}\nexpected a (height, width) pair, got {show(got)} with shape {got.shape}",
        )
    if not np.all(np.isfinite(flat)) or not np.all(flat == np.round(flat)):
        return Verdict("failed", f"{intro}\nexpected whole numbers, got {show(got)}")
    if np.array_equal(flat.astype(np.int64), expected):
        return Verdict("passed", "")
    if case.public:
        return Verdict(
            "failed",
            f"{intro}\nexpected {tuple(expected.tolist())}, "
            f"got {tuple(flat.astype(np.int64).tolist())}",
        )
    wrong = [name for name, g, e in zip(("height", "width"), flat, expected) if g != e]
    return Verdict(
        "failed",
        f"{intro}\ngot {tuple(flat.astype(np.int64).tolist())}: the "
        f"{' and the '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong",
    )


def judge_inputs_unchanged(
    case: Case, result: SandboxResult, printed: Printing = Printing()
) -> Verdict | None:
    for name, before in case.inputs.items():
        after = result.inputs_after.get(name)
        if after is None or after.shape != before.shape or not np.array_equal(after, before):
            mutated = f"the result is right, but the function changed its input {name} in place"
            return Verdict("failed", f"{printed.describe(case)}\n{mutated}", mutated)
    return None


def comparison(
    exercise: Exercise, case: Case, expected: np.ndarray, result: SandboxResult
) -> Comparison | None:
    """Expected and received arrays for heatmaps: public inputs and small 2-D or 3-D results."""
    got = result.array
    if not case.public or exercise.result != "array" or got is None:
        return None
    small = all(a.ndim in (2, 3) and 0 < a.size <= MAX_COMPARED_VALUES for a in (expected, got))
    return Comparison.of(expected, got) if small else None
