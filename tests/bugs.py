"""The collection of realistic bugs: each a one-snippet change to the solutions."""

from conftest import solution_text, with_change

BUILT_ON_CORR2D = {"corr2d", "Conv2D", "corr2d_multi_in", "corr2d_multi_in_out"}

# One realistic bug each: (id, exercises that must lose points, old snippet, new snippet).
BUGS = [
    (
        "flipped-kernel",
        BUILT_ON_CORR2D,
        "(X[i : i + h, j : j + w] * K).sum()",
        "(X[i : i + h, j : j + w] * np.flip(K)).sum()",
    ),
    (
        "shape-off-by-one",
        BUILT_ON_CORR2D,
        "np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))",
        "np.zeros((X.shape[0] - h, X.shape[1] - w + 1))",
    ),
    (
        "transposed-output",
        BUILT_ON_CORR2D,
        "    return Y\n    # END SOLUTION\n\n\n# %%\nX = np",
        "    return Y.T\n    # END SOLUTION\n\n\n# %%\nX = np",
    ),
    (
        "integer-truncation",
        BUILT_ON_CORR2D,
        "np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))",
        "np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype='int32')",
    ),
    (
        "bias-missing",
        {"Conv2D"},
        "corr2d(x, self.weight.data()) + self.bias.data()",
        "corr2d(x, self.weight.data())",
    ),
    ("weight-wrong-shape", {"Conv2D"}, "shape=kernel_size)", "shape=(1, 1) + kernel_size)"),
    (
        "loss-rising",
        {"learn_kernel"},
        "        conv2d.weight.data()[:] -= lr",
        "        conv2d.weight.data()[:] += lr",
    ),
    (
        "learning-rate-ignored",
        {"learn_kernel"},
        "        conv2d.weight.data()[:] -= lr * ",
        "        conv2d.weight.data()[:] -= 3e-2 * ",
    ),
    ("batch-dims-kept", {"comp_conv2d"}, "return Y.reshape(Y.shape[2:])", "return Y"),
    ("stride-ignored", {"conv_output_shape"}, "(n + 2 * p - k) // s + 1", "(n + 2 * p - k) + 1"),
    ("padding-once", {"conv_output_shape"}, "(n + 2 * p - k) // s + 1", "(n + p - k) // s + 1"),
    (
        "ceil-not-floor",
        {"conv_output_shape"},
        "(n + 2 * p - k) // s + 1",
        "-(-(n + 2 * p - k) // s) + 1",
    ),
    (
        "channels-averaged",
        {"corr2d_multi_in", "corr2d_multi_in_out"},
        "sum(corr2d(x, k) for x, k in zip(X, K))",
        "sum(corr2d(x, k) for x, k in zip(X, K)) / len(X)",
    ),
    (
        "wrong-stack-axis",
        {"corr2d_multi_in_out"},
        "np.stack([corr2d_multi_in(X, k) for k in K])",
        "np.stack([corr2d_multi_in(X, k) for k in K], axis=2)",
    ),
    (
        "reshape-right-only-if-square",
        {"corr2d_multi_in_out_1x1"},
        "return Y.reshape((c_o, h, w))",
        "return Y.reshape((c_i, h, w))",
    ),
]

# The diagnosis each bug must get, in the message of at least one test it fails.
DIAGNOSES = {
    "flipped-kernel": "the kernel is flipped",
    "shape-off-by-one": "your output has n_h - k_h rows",
    "transposed-output": "your output is transposed",
    "integer-truncation": "the integer dtype int32",
    "bias-missing": "the bias is missing",
    "weight-wrong-shape": "weight has shape (1, 1,",
    "loss-rising": "the loss rose",
    "learning-rate-ignored": ("learning rate you are given", "use the lr argument"),
    "batch-dims-kept": "the batch and channel dimensions are still there",
    "stride-ignored": "the stride is ignored",
    "padding-once": "padding is counted once",
    "ceil-not-floor": "the division rounds up",
    "channels-averaged": "the input channels are averaged",
    "wrong-stack-axis": "stack them on axis 0",
    "reshape-right-only-if-square": "works only when both are equal",
}


def buggy_text(bug: str) -> str:
    """The whole chapter's solutions with one bug of the collection."""
    _, _, old, new = next(b for b in BUGS if b[0] == bug)
    return with_change(solution_text(), old, new)
