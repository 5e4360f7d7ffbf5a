"""The chapter's exercises and their test cases: what each graded name is asked, and the answer.

Inputs are plain float32 numpy arrays and small JSON-able parameters, built here in the trusted
grader. Public cases are the seeds' own examples; hidden cases come from a seeded generator.
Expected values come from an Oracle (a convolution in numpy float64, see oracle.py), never
from the student's code. `reference` holds values that must never reach the student's
process (the true kernel of learn_kernel).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Oracle(Protocol):
    """A trusted convolution: data (c_i, h, w), weight (c_o, c_i, k_h, k_w) -> (c_o, h', w')."""

    def convolve(
        self,
        data: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        padding: tuple[int, int] = (0, 0),
        strides: tuple[int, int] = (1, 1),
    ) -> np.ndarray: ...

    def output_shape(
        self,
        input_shape: tuple[int, int],
        kernel_size: tuple[int, int],
        padding: tuple[int, int],
        strides: tuple[int, int],
    ) -> tuple[int, int]: ...


@dataclass(frozen=True, eq=False)
class Case:
    exercise: str
    name: str  # "public-1", "hidden-4"
    visibility: str  # "visible", "hidden", or "example" (shown in full, never scored)
    description: str  # safe to show for hidden cases: sizes and kinds, never values
    inputs: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.visibility != "hidden"


@dataclass(frozen=True)
class Exercise:
    name: str
    call: str  # how the grader calls it, for messages
    result: str  # "array", "shape" or "kernel": how its output is judged
    public_cases: Callable[[], list[Case]]
    hidden_cases: Callable[[np.random.Generator, int, Oracle], list[Case]]
    expected: Callable[[Case, Oracle], np.ndarray]
    trains: bool = False  # its cases depend on where the framework starts a layer's weights


def f32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def sample(rng: np.random.Generator, shape: tuple[int, ...], integer: bool) -> np.ndarray:
    """Integer-valued data in [-4, 4] or real-valued data in [-2, 2], as float32."""
    if integer:
        return f32(rng.integers(-4, 5, size=shape))
    return f32(rng.uniform(-2, 2, size=shape))


def kind(integer: bool) -> str:
    return "integer-valued" if integer else "real-valued"


def dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


def kernel_shape(rng: np.random.Generator, index: int, h: int, w: int) -> tuple[int, int]:
    """Cycle through the shapes that catch the usual bugs: 1x1, as large as the input, any."""
    if index % 4 == 0:
        return 1, 1
    if index % 4 == 1:
        return h, w
    return int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))


def make_cases(exercise: str, visibility: str, rows: list[tuple[str, dict, dict]]) -> list[Case]:
    prefix = "public" if visibility == "visible" else "hidden"
    return [
        Case(exercise, f"{prefix}-{i}", visibility, description, inputs, params)
        for i, (description, inputs, params) in enumerate(rows, start=1)
    ]


# -- the seeds' examples ------------------------------------------------------------------------

SEED_X = f32([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
SEED_K = f32([[0, 1], [2, 3]])
EDGE_IMAGE = np.ones((6, 8), dtype=np.float32)
EDGE_IMAGE[:, 2:6] = 0
EDGE_KERNEL = f32([[1, -1]])
CHANNELS_X = f32([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
CHANNELS_K = f32([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])
PUBLIC_RNG_SEED = 0  # public random inputs (comp_conv2d, 1x1) are fixed and may be shown
PADDING_EXAMPLES = [  # (kernel_size, padding, strides) from the padding-and-strides seed
    ((3, 3), (1, 1), (1, 1)),
    ((3, 3), (1, 1), (2, 2)),
    ((3, 5), (0, 1), (3, 4)),
]


def corr2d_of(oracle: Oracle, X: np.ndarray, K: np.ndarray) -> np.ndarray:
    return oracle.convolve(X[None], K[None, None])[0]


# -- corr2d ---------------------------------------------------------------------------------------


def corr2d_public() -> list[Case]:
    return make_cases(
        "corr2d",
        "visible",
        [
            ("the 3x3 example", {"X": SEED_X, "K": SEED_K}, {}),
            ("the edge image with K = [[1, -1]]", {"X": EDGE_IMAGE, "K": EDGE_KERNEL}, {}),
            ("the transposed edge image", {"X": EDGE_IMAGE.T.copy(), "K": EDGE_KERNEL}, {}),
        ],
    )


def corr2d_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        integer = i % 2 == 0
        h, w = (int(n) for n in rng.integers(2, 9, size=2))
        kh, kw = kernel_shape(rng, i, h, w)
        inputs = {"X": sample(rng, (h, w), integer), "K": sample(rng, (kh, kw), integer)}
        rows.append((f"{dims((h, w))} {kind(integer)} input, {dims((kh, kw))} kernel", inputs, {}))
    return make_cases("corr2d", "hidden", rows)


# -- Conv2D ---------------------------------------------------------------------------------------


def conv2d_public() -> list[Case]:
    return make_cases(
        "Conv2D",
        "visible",
        [
            (
                "the edge image, weight [[1, -1]], bias 0",
                {"X": EDGE_IMAGE, "weight": EDGE_KERNEL, "bias": f32([0])},
                {},
            ),
            (
                "the 3x3 example, weight [[0, 1], [2, 3]], bias 1",
                {"X": SEED_X, "weight": SEED_K, "bias": f32([1])},
                {},
            ),
        ],
    )


def conv2d_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        integer = i % 2 == 1
        h, w = (int(n) for n in rng.integers(2, 8, size=2))
        kh, kw = kernel_shape(rng, i + 2, h, w)
        inputs = {
            "X": sample(rng, (h, w), integer),
            "weight": sample(rng, (kh, kw), integer),
            "bias": sample(rng, (1,), integer),
        }
        rows.append((f"{dims((h, w))} {kind(integer)} input, kernel_size {(kh, kw)}", inputs, {}))
    return make_cases("Conv2D", "hidden", rows)


def conv2d_expected(case: Case, oracle: Oracle) -> np.ndarray:
    i = case.inputs
    return oracle.convolve(i["X"][None], i["weight"][None, None], i["bias"])[0]


# -- learn_kernel ---------------------------------------------------------------------------------

LEARN_SHAPES = [(1, 2), (2, 1), (2, 2), (1, 3), (3, 1), (2, 3)]
BOOK_EPOCHS = 10  # the book's example trains 10 epochs at lr 3e-2
InitBound = Callable[[tuple[int, ...]], float]  # kernel shape -> largest |initial weight|


def gluon_init_bound(shape: tuple[int, ...]) -> float:
    """Gluon's default initialization: Uniform(-0.07, 0.07). Each framework module says its
    own (`initial_weight_bound`): training from farther needs more epochs."""
    return 0.07


def worst_error_after(case: Case, bound: float, epochs: int) -> float:
    """The largest error any weight of the learned kernel can have after epochs steps of
    gradient descent on the summed squared error, from any start within bound of 0. The error
    is linear in the start, so its largest value is at a corner of the box of starts."""
    true = case.reference["kernel"].astype(np.float64).ravel()
    patches = sliding_window_view(case.inputs["X"].astype(np.float64), case.params["kernel_size"])
    A = patches.reshape(-1, true.size)
    eigenvalues, vectors = np.linalg.eigh(2 * A.T @ A)
    shrink = (1 - case.params["lr"] * eigenvalues) ** epochs
    corners = np.array(np.meshgrid(*[[-bound, bound]] * true.size)).reshape(true.size, -1)
    errors = vectors @ (shrink[:, None] * (vectors.T @ (corners - true[:, None])))
    return float(np.abs(errors).max())


def learn_kernel_public(init_bound: InitBound = gluon_init_bound) -> list[Case]:
    """The book's example: 10 epochs, or, from a framework's farther start (PyTorch's), the
    fewest more that provably end within half the 0.05 the learned kernel is judged with."""
    Y = np.zeros((6, 7), dtype=np.float32)
    Y[:, 1], Y[:, 5] = 1, -1
    bound = init_bound((1, 2))
    case = Case(
        "learn_kernel",
        "public-1",
        "visible",
        "the edge image and its edge map, kernel (1, 2)",
        inputs={"X": EDGE_IMAGE, "Y": Y},
        params={"kernel_size": [1, 2], "lr": 3e-2, "num_epochs": BOOK_EPOCHS},
        reference={"kernel": EDGE_KERNEL, "init_bound": np.float64(bound)},
    )
    epochs = BOOK_EPOCHS
    while worst_error_after(case, bound, epochs) > 0.025 and epochs < 60:
        epochs += 1
    return [replace(case, params={**case.params, "num_epochs": epochs})]


def training_schedule(X: np.ndarray, shape: tuple[int, int], start_error: float):
    """A learning rate and epoch count with which gradient descent from Gluon's initialization
    provably gets within 0.002 of the true kernel on this image, or None if it is too slow.

    The summed squared error is quadratic in the kernel with Hessian 2 A^T A (A: the image's
    patches), so each epoch shrinks the error by at least max |1 - lr * eigenvalue|.
    """
    patches = sliding_window_view(X.astype(np.float64), shape).reshape(-1, shape[0] * shape[1])
    eigenvalues = np.linalg.eigvalsh(2 * patches.T @ patches)
    if eigenvalues[0] <= 1e-3 * eigenvalues[-1]:
        return None
    lr = 1 / eigenvalues[-1]
    lr = float(f"{lr * 0.99:.2g}")  # a round number a little below 1 / largest eigenvalue
    contraction = float(np.max(np.abs(1 - lr * eigenvalues)))
    epochs = math.ceil(math.log(0.002 / start_error) / math.log(contraction))
    return (lr, max(epochs, 1)) if epochs <= 60 else None


def learn_kernel_hidden(
    rng: np.random.Generator,
    count: int,
    oracle: Oracle,
    init_bound: InitBound = gluon_init_bound,
) -> list[Case]:
    """Images of small and large amplitude in turn: the learning rate that converges then lies
    far from the default 3e-2 (about 0.2 to 0.5, or below 0.01), so it must be used."""
    cases = []
    while len(cases) < count:
        shape = LEARN_SHAPES[int(rng.integers(len(LEARN_SHAPES)))]
        h, w = (int(n) for n in rng.integers(4, 9, size=2))
        binary = rng.random() < 0.5
        amplitude = rng.uniform(0.3, 0.5) if len(cases) % 2 == 0 else rng.uniform(2, 3)
        pattern = rng.integers(0, 2, size=(h, w)) if binary else rng.uniform(-1, 1, (h, w))
        X = f32(np.round(amplitude * pattern, 2))
        K = f32(rng.uniform(-1.5, 1.5, size=shape).round(2))
        schedule = training_schedule(X, shape, float(np.abs(K).max()) + init_bound(shape))
        if schedule is None:
            continue
        lr, epochs = schedule
        image = "binary" if binary else "real-valued"
        cases.append(
            Case(
                "learn_kernel",
                f"hidden-{len(cases) + 1}",
                "hidden",
                f"{dims((h, w))} {image} image, kernel_size {shape}, lr {lr:g}, {epochs} epochs",
                inputs={"X": X, "Y": f32(corr2d_of(oracle, X, K))},
                params={"kernel_size": list(shape), "lr": lr, "num_epochs": epochs},
                reference={"kernel": K, "init_bound": np.float64(init_bound(shape))},
            )
        )
    return cases


# -- comp_conv2d and conv_output_shape ------------------------------------------------------------


def comp_conv2d_row(rng, X, kernel, padding, strides, integer=False):
    inputs = {"X": X, "weight": sample(rng, kernel, integer), "bias": sample(rng, (1,), integer)}
    params = {"kernel_size": list(kernel), "padding": list(padding), "strides": list(strides)}
    text = f"{dims(X.shape)} input, kernel_size {kernel}, padding {padding}, strides {strides}"
    return text, inputs, params


def comp_conv2d_public() -> list[Case]:
    rng = np.random.default_rng(PUBLIC_RNG_SEED)
    X = f32(rng.uniform(size=(8, 8)))
    rows = [comp_conv2d_row(rng, X, *example) for example in PADDING_EXAMPLES]
    return make_cases("comp_conv2d", "visible", rows)


def padding_sweep(rng: np.random.Generator, max_size: int) -> tuple:
    """A random valid (input_shape, kernel_size, padding, strides), non-square in general."""
    n = tuple(int(v) for v in rng.integers(1, max_size + 1, size=2))
    p = tuple(int(v) for v in rng.integers(0, 3, size=2))
    k = tuple(int(rng.integers(1, min(n_ + 2 * p_, 7) + 1)) for n_, p_ in zip(n, p))
    s = tuple(int(v) for v in rng.integers(1, 4, size=2))
    return n, k, p, s


def comp_conv2d_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        n, k, p, s = padding_sweep(rng, 10)
        integer = i % 2 == 0
        rows.append(comp_conv2d_row(rng, sample(rng, n, integer), k, p, s, integer))
    return make_cases("comp_conv2d", "hidden", rows)


def comp_conv2d_expected(case: Case, oracle: Oracle) -> np.ndarray:
    i, p = case.inputs, case.params
    weight = i["weight"][None, None]
    return oracle.convolve(
        i["X"][None], weight, i["bias"], tuple(p["padding"]), tuple(p["strides"])
    )[0]


def shape_row(n, k, p, s) -> tuple[str, dict, dict]:
    params = {
        "input_shape": list(n),
        "kernel_size": list(k),
        "padding": list(p),
        "strides": list(s),
    }
    return f"input_shape {n}, kernel_size {k}, padding {p}, strides {s}", {}, params


def conv_output_shape_public() -> list[Case]:
    rows = [shape_row((8, 8), *example) for example in PADDING_EXAMPLES]
    return make_cases("conv_output_shape", "visible", rows)


def conv_output_shape_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = [shape_row(*padding_sweep(rng, 32)) for _ in range(count)]
    return make_cases("conv_output_shape", "hidden", rows)


def conv_output_shape_expected(case: Case, oracle: Oracle) -> np.ndarray:
    p = case.params
    shape = oracle.output_shape(
        *(tuple(p[key]) for key in ("input_shape", "kernel_size", "padding", "strides"))
    )
    return np.asarray(shape, dtype=np.int64)


# -- channels -------------------------------------------------------------------------------------


def multi_in_public() -> list[Case]:
    return make_cases(
        "corr2d_multi_in",
        "visible",
        [
            ("the two-channel example", {"X": CHANNELS_X, "K": CHANNELS_K}, {}),
        ],
    )


def channel_sizes(rng: np.random.Generator, index: int, max_size: int):
    h, w = (int(n) for n in rng.integers(2, max_size + 1, size=2))
    return (h, w), kernel_shape(rng, index + 2, h, w)


def multi_in_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        integer = i % 2 == 0
        c_i = 1 + i % 4
        (h, w), (kh, kw) = channel_sizes(rng, i, 6)
        inputs = {"X": sample(rng, (c_i, h, w), integer), "K": sample(rng, (c_i, kh, kw), integer)}
        text = f"X {dims((c_i, h, w))} {kind(integer)}, K {dims((c_i, kh, kw))}"
        rows.append((text, inputs, {}))
    return make_cases("corr2d_multi_in", "hidden", rows)


def multi_in_out_public() -> list[Case]:
    K = np.stack((CHANNELS_K, CHANNELS_K + 1, CHANNELS_K + 2))
    return make_cases(
        "corr2d_multi_in_out",
        "visible",
        [
            ("the two-channel example with K, K + 1, K + 2", {"X": CHANNELS_X, "K": K}, {}),
        ],
    )


def channel_counts(rng: np.random.Generator) -> tuple[int, int]:
    """Mostly c_i != c_o, so that a reshape right only for square channel counts fails."""
    c_i, c_o = (int(n) for n in rng.integers(1, 5, size=2))
    return (c_i, c_o) if c_i != c_o else (c_i, c_i % 4 + 1)


def multi_in_out_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        integer = i % 2 == 1
        c_i, c_o = channel_counts(rng)
        (h, w), (kh, kw) = channel_sizes(rng, i, 5)
        K_shape = (c_o, c_i, kh, kw)
        inputs = {"X": sample(rng, (c_i, h, w), integer), "K": sample(rng, K_shape, integer)}
        rows.append((f"X {dims((c_i, h, w))} {kind(integer)}, K {dims(K_shape)}", inputs, {}))
    return make_cases("corr2d_multi_in_out", "hidden", rows)


def one_by_one_public() -> list[Case]:
    rng = np.random.default_rng(PUBLIC_RNG_SEED)
    inputs = {"X": f32(rng.uniform(size=(3, 3, 3))), "K": f32(rng.uniform(size=(2, 3, 1, 1)))}
    return make_cases(
        "corr2d_multi_in_out_1x1",
        "visible",
        [
            ("the 1x1 example: X 3x3x3, K 2x3x1x1, uniform", inputs, {}),
        ],
    )


def one_by_one_hidden(rng: np.random.Generator, count: int, oracle: Oracle) -> list[Case]:
    rows = []
    for i in range(count):
        integer = i % 2 == 0
        c_i, c_o = channel_counts(rng)
        h, w = (int(n) for n in rng.integers(1, 7, size=2))
        K_shape = (c_o, c_i, 1, 1)
        inputs = {"X": sample(rng, (c_i, h, w), integer), "K": sample(rng, K_shape, integer)}
        rows.append((f"X {dims((c_i, h, w))} {kind(integer)}, K {dims(K_shape)}", inputs, {}))
    return make_cases("corr2d_multi_in_out_1x1", "hidden", rows)


def multi_channel_expected(case: Case, oracle: Oracle) -> np.ndarray:
    X, K = case.inputs["X"], case.inputs["K"]
    return oracle.convolve(X, K)


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in [
        Exercise(
            "corr2d",
            "corr2d(X, K)",
            "array",
            corr2d_public,
            corr2d_hidden,
            lambda case, oracle: corr2d_of(oracle, case.inputs["X"], case.inputs["K"]),
        ),
        Exercise(
            "Conv2D",
            "Conv2D(kernel_size)(X)",
            "array",
            conv2d_public,
            conv2d_hidden,
            conv2d_expected,
        ),
        Exercise(
            "learn_kernel",
            "learn_kernel(X, Y, kernel_size, lr, num_epochs)",
            "kernel",
            learn_kernel_public,
            learn_kernel_hidden,
            lambda case, oracle: case.reference["kernel"].astype(np.float64),
            trains=True,
        ),
        Exercise(
            "comp_conv2d",
            "comp_conv2d(conv2d, X)",
            "array",
            comp_conv2d_public,
            comp_conv2d_hidden,
            comp_conv2d_expected,
        ),
        Exercise(
            "conv_output_shape",
            "conv_output_shape(input_shape, kernel_size, padding, strides)",
            "shape",
            conv_output_shape_public,
            conv_output_shape_hidden,
            conv_output_shape_expected,
        ),
        Exercise(
            "corr2d_multi_in",
            "corr2d_multi_in(X, K)",
            "array",
            multi_in_public,
            multi_in_hidden,
            lambda case, oracle: oracle.convolve(case.inputs["X"], case.inputs["K"][None])[0],
        ),
        Exercise(
            "corr2d_multi_in_out",
            "corr2d_multi_in_out(X, K)",
            "array",
            multi_in_out_public,
            multi_in_out_hidden,
            multi_channel_expected,
        ),
        Exercise(
            "corr2d_multi_in_out_1x1",
            "corr2d_multi_in_out_1x1(X, K)",
            "array",
            one_by_one_public,
            one_by_one_hidden,
            multi_channel_expected,
        ),
    ]
}


def public_case_counts() -> dict[str, int]:
    """How many public cases each exercise has, for validating the config."""
    return {name: len(exercise.public_cases()) for name, exercise in EXERCISES.items()}


def hidden_rng(seed: int, exercise: str) -> np.random.Generator:
    """One independent stream per exercise, so adding cases to one leaves the others unchanged."""
    return np.random.default_rng([seed, zlib.crc32(exercise.encode())])


# -- what a non-computing answer gets -------------------------------------------------------------

DEFAULT_TOLERANCE = (1e-4, 1e-4)  # (rtol, atol), as in the course config's defaults
MAX_DRAWS = 20  # rounds of drawing that replace degenerate hidden cases


def within(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    """The grader's own rule: abs(got - expected) <= atol + rtol * abs(expected)."""
    return got.shape == expected.shape and bool(
        np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    )


def given_values(case: Case) -> dict[str, np.ndarray]:
    """Everything the call is given, as arrays: the input arrays and the numeric params."""
    values = {name: np.asarray(a, dtype=np.float64) for name, a in case.inputs.items()}
    for name, value in case.params.items():
        if isinstance(value, (int, float, list, tuple)) and not isinstance(value, bool):
            values[name] = np.asarray(value, dtype=np.float64)
    return values


def is_part_of(expected: np.ndarray, given: np.ndarray, rtol: float, atol: float) -> bool:
    """Whether some block of given (the whole of it, a crop, one channel's crop) is expected."""
    wanted = expected
    while wanted.ndim > given.ndim and wanted.shape[0] == 1:
        wanted = wanted[0]
    if wanted.ndim == 0 or wanted.ndim > given.ndim:
        return False
    window = (1,) * (given.ndim - wanted.ndim) + wanted.shape
    if any(w > g for w, g in zip(window, given.shape)):
        return False
    blocks = sliding_window_view(given, window).reshape(-1, *wanted.shape)
    bound = atol + rtol * np.abs(wanted)
    return bool(np.any(np.all(np.abs(blocks - wanted) <= bound, axis=tuple(range(1, blocks.ndim)))))


def trivial_answer(
    case: Case, expected: np.ndarray, rtol: float = 1e-4, atol: float = 1e-4
) -> str | None:
    """Which answer that computes nothing would pass this case: "all zeros", "a constant",
    "the input X" (or a part of it), or None when only computing gets it right.

    A passing test is evidence of work only when this is None (see scoring.py)."""
    expected = np.asarray(expected, dtype=np.float64)
    if expected.size == 0 or not np.all(np.isfinite(expected)):
        return None
    if within(np.zeros_like(expected), expected, rtol, atol):
        return "all zeros"
    middle = (expected.max() + expected.min()) / 2
    if expected.size > 1 and within(np.full_like(expected, middle), expected, rtol, atol):
        return "a constant"
    for name, given in given_values(case).items():
        if is_part_of(expected, given, rtol, atol):
            whole = given.shape == expected.shape
            return f"the input {name}" if whole else f"a part of the input {name}"
    return None


def hidden_cases(
    exercise: str,
    count: int,
    seed: int,
    oracle: Oracle,
    rtol: float,
    atol: float,
    init_bound: InitBound = gluon_init_bound,
) -> list[Case]:
    """count hidden cases, none of which a non-computing answer passes: a degenerate draw
    (the kernel [[1]], an output of zeros) is replaced by the generator's next one."""
    spec, rng = EXERCISES[exercise], hidden_rng(seed, exercise)
    generate = (
        partial(spec.hidden_cases, init_bound=init_bound) if spec.trains else spec.hidden_cases
    )
    kept: list[Case] = []
    for _ in range(MAX_DRAWS):
        if len(kept) >= count:
            break
        drawn = generate(rng, count - len(kept), oracle)
        kept += [
            case
            for case in drawn
            if trivial_answer(case, spec.expected(case, oracle), rtol, atol) is None
        ]
    return [replace(case, name=f"hidden-{i}") for i, case in enumerate(kept[:count], start=1)]


def cases_for(
    exercise: str,
    public_count: int,
    hidden_count: int,
    seed: int,
    oracle: Oracle,
    tolerance: tuple[float, float] = DEFAULT_TOLERANCE,
    init_bound: InitBound = gluon_init_bound,
) -> list[Case]:
    """The public cases, then hidden_count hidden ones; tolerance (rtol, atol) is the one
    the exercise is judged with, which decides what a trivial answer would pass; init_bound
    is where the framework graded starts a layer's weights (what training must overcome)."""
    spec = EXERCISES[exercise]
    hidden = hidden_cases(exercise, hidden_count, seed, oracle, *tolerance, init_bound)
    public = spec.public_cases(init_bound) if spec.trains else spec.public_cases()
    return public[:public_count] + hidden
