"""A class of student-style submissions for the similarity check: independent solutions, each
written its own way in the stubs (as .py files, notebooks, or one file), copies of some of
them disguised the usual ways, and submissions of nothing but the stubs or the book's code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
from conftest import EXERCISES, SOLUTIONS

STUB_FILES = ("conv_layer", "padding_and_strides", "channels")

# Each student's own code for each exercise, in the order the stubs define them.
ANA = {
    "corr2d": """def corr2d(X, K):
    kh, kw = K.shape
    rows, cols = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            window = X[r : r + kh, c : c + kw]
            out[r, c] = np.sum(window * K)  # multiply elementwise, then add up
    return out""",
    "Conv2D": """class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        return corr2d(x, self.weight.data()) + self.bias.data()""",
    "learn_kernel": """def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    net = nn.Conv2D(1, kernel_size=kernel_size, use_bias=False)
    net.initialize()
    inputs = X.reshape(1, 1, *X.shape)
    targets = Y.reshape(1, 1, *Y.shape)
    for epoch in range(num_epochs):
        with autograd.record():
            err = (net(inputs) - targets) ** 2
        err.backward()
        net.weight.data()[:] = net.weight.data() - lr * net.weight.grad()
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1}: {float(err.sum()):.4f}")
    return net.weight.data()[0, 0]""",
    "comp_conv2d": """def comp_conv2d(conv2d, X):
    conv2d.initialize()
    out = conv2d(X[None, None])
    return out[0, 0]""",
    "conv_output_shape": """def conv_output_shape(
    input_shape, kernel_size, padding=(0, 0), strides=(1, 1)
):
    sizes = zip(input_shape, kernel_size, padding, strides)
    return tuple((n - k + 2 * p) // s + 1 for n, k, p, s in sizes)""",
    "corr2d_multi_in": """def corr2d_multi_in(X, K):
    total = corr2d(X[0], K[0])
    for channel in range(1, X.shape[0]):
        total = total + corr2d(X[channel], K[channel])
    return total""",
    "corr2d_multi_in_out": """def corr2d_multi_in_out(X, K):
    maps = []
    for kernel in K:
        maps.append(corr2d_multi_in(X, kernel))
    return np.stack(maps, axis=0)""",
    "corr2d_multi_in_out_1x1": """def corr2d_multi_in_out_1x1(X, K):
    channels_in, height, width = X.shape
    channels_out = K.shape[0]
    pixels = X.reshape(channels_in, height * width)
    mixing = K.reshape(channels_out, channels_in)
    return np.dot(mixing, pixels).reshape(channels_out, height, width)""",
}

BEN = {
    "corr2d": """def corr2d(X, K):
    h, w = K.shape
    result = []
    for i in range(X.shape[0] - h + 1):
        line = [float((X[i : i + h, j : j + w] * K).sum()) for j in range(X.shape[1] - w + 1)]
        result.append(line)
    return np.array(result)""",
    "Conv2D": """class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super(Conv2D, self).__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, X):
        y = corr2d(X, self.weight.data())
        y = y + self.bias.data()
        return y""",
    "learn_kernel": """def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    layer = nn.Conv2D(channels=1, kernel_size=kernel_size, use_bias=False, in_channels=1)
    layer.initialize()
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": lr})
    x4, y4 = X.reshape((1, 1) + X.shape), Y.reshape((1, 1) + Y.shape)
    losses = []
    for _ in range(num_epochs):
        with autograd.record():
            loss = ((layer(x4) - y4) ** 2).sum()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss))
    return layer.weight.data().reshape(kernel_size)""",
    "comp_conv2d": """def comp_conv2d(conv2d, X):
    conv2d.initialize()
    batch = X.reshape(1, 1, X.shape[0], X.shape[1])
    result = conv2d(batch)
    return result[0][0]""",
    "conv_output_shape": """def conv_output_shape(
    input_shape, kernel_size, padding=(0, 0), strides=(1, 1)
):
    n_h, n_w = input_shape
    k_h, k_w = kernel_size
    p_h, p_w = padding
    s_h, s_w = strides
    out_h = (n_h - k_h + 2 * p_h) // s_h + 1
    out_w = (n_w - k_w + 2 * p_w) // s_w + 1
    return (out_h, out_w)""",
    "corr2d_multi_in": """def corr2d_multi_in(X, K):
    return np.stack([corr2d(x, k) for x, k in zip(X, K)]).sum(axis=0)""",
    "corr2d_multi_in_out": """def corr2d_multi_in_out(X, K):
    return np.stack([corr2d_multi_in(X, K[o]) for o in range(K.shape[0])])""",
    "corr2d_multi_in_out_1x1": """def corr2d_multi_in_out_1x1(X, K):
    flat = X.reshape((X.shape[0], -1))
    weights = K[:, :, 0, 0]
    return np.matmul(weights, flat).reshape((K.shape[0],) + X.shape[1:])""",
}

CHLOE = {
    "corr2d": """def corr2d(X, K):
    n_h, n_w = X.shape
    k_h, k_w = K.shape
    Y = np.zeros((n_h - k_h + 1, n_w - k_w + 1))
    # add up shifted copies of X, one per kernel element
    for a in range(k_h):
        for b in range(k_w):
            Y = Y + K[a, b] * X[a : a + n_h - k_h + 1, b : b + n_w - k_w + 1]
    return Y""",
    "Conv2D": """class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, inputs):
        W, b = self.weight.data(), self.bias.data()
        return corr2d(inputs, W) + b""",
    "learn_kernel": """def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    conv = nn.Conv2D(1, kernel_size, use_bias=False)
    conv.initialize(init.Uniform(0.07))
    X, Y = np.expand_dims(np.expand_dims(X, 0), 0), np.expand_dims(np.expand_dims(Y, 0), 0)
    weight = conv.weight
    for step in range(num_epochs):
        with autograd.record():
            l = ((conv(X) - Y) ** 2).sum()
        l.backward()
        weight.set_data(weight.data() - lr * weight.grad())
    return weight.data().squeeze()""",
    "comp_conv2d": """def comp_conv2d(conv2d, X):
    conv2d.initialize(force_reinit=True)
    Y = conv2d(np.expand_dims(np.expand_dims(X, 0), 0))
    return Y.squeeze(axis=(0, 1))""",
    "conv_output_shape": """def out_size(n, k, p, s):
    return math.floor((n - k + 2 * p + s) / s)


def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    h = out_size(input_shape[0], kernel_size[0], padding[0], strides[0])
    w = out_size(input_shape[1], kernel_size[1], padding[1], strides[1])
    return h, w""",
    "corr2d_multi_in": """def corr2d_multi_in(X, K):
    out = 0
    for c in range(len(X)):
        out += corr2d(X[c], K[c])
    return out""",
    "corr2d_multi_in_out": """def corr2d_multi_in_out(X, K):
    first = corr2d_multi_in(X, K[0])
    Y = np.zeros((K.shape[0],) + first.shape)
    Y[0] = first
    for o in range(1, K.shape[0]):
        Y[o] = corr2d_multi_in(X, K[o])
    return Y""",
    "corr2d_multi_in_out_1x1": """def corr2d_multi_in_out_1x1(X, K):
    Xm = X.reshape(X.shape[0], X.shape[1] * X.shape[2])
    Km = K.reshape(K.shape[0], K.shape[1])
    return (Km @ Xm).reshape(K.shape[0], X.shape[1], X.shape[2])""",
}

DEV = {
    "corr2d": """def corr2d(X, K):
    out_h = X.shape[0] - K.shape[0] + 1
    out_w = X.shape[1] - K.shape[1] + 1
    Y = np.zeros((out_h, out_w))
    i = 0
    while i < out_h:
        j = 0
        while j < out_w:
            patch = X[i : i + K.shape[0], j : j + K.shape[1]]
            Y[i, j] = (patch * K).sum()
            j += 1
        i += 1
    return Y""",
    "Conv2D": """class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        kernel = self.weight.data()
        return self.bias.data() + corr2d(x, kernel)""",
    "learn_kernel": """def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    model = nn.Conv2D(channels=1, kernel_size=kernel_size, use_bias=False)
    model.initialize()
    X = X.expand_dims(0).expand_dims(0)
    Y = Y.expand_dims(0).expand_dims(0)
    epoch = 0
    while epoch < num_epochs:
        with autograd.record():
            squared = (model(X) - Y) ** 2
            total = squared.sum()
        total.backward()
        grad = model.weight.grad()
        model.weight.data()[:] -= lr * grad
        epoch += 1
    kh, kw = kernel_size
    return model.weight.data().reshape((kh, kw))""",
    "comp_conv2d": """def comp_conv2d(conv2d, X):
    conv2d.initialize()
    shaped = X.reshape((1, 1, *X.shape))
    answer = conv2d(shaped)
    h, w = answer.shape[2], answer.shape[3]
    return answer.reshape((h, w))""",
    "conv_output_shape": """def conv_output_shape(
    input_shape, kernel_size, padding=(0, 0), strides=(1, 1)
):
    dims = []
    for axis in range(2):
        room = input_shape[axis] + padding[axis] * 2 - kernel_size[axis]
        dims.append(room // strides[axis] + 1)
    return tuple(dims)""",
    "corr2d_multi_in": """def corr2d_multi_in(X, K):
    return functools.reduce(lambda a, b: a + b, map(corr2d, X, K))""",
    "corr2d_multi_in_out": """def corr2d_multi_in_out(X, K):
    pieces = [np.expand_dims(corr2d_multi_in(X, k), 0) for k in K]
    return np.concatenate(pieces, axis=0)""",
    "corr2d_multi_in_out_1x1": """def corr2d_multi_in_out_1x1(X, K):
    return np.einsum("oi,ihw->ohw", K[:, :, 0, 0], X)""",
}

ELI = {
    "corr2d": """def corr2d(X, K):
    h, w = K.shape
    H, W = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = np.zeros((H, W))
    for index in range(H * W):
        i, j = divmod(index, W)
        Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y""",
    "Conv2D": """class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        # cross-correlation plus the scalar bias
        return corr2d(x, self.weight.data()) + self.bias.data()""",
    "learn_kernel": """def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    c = nn.Conv2D(1, kernel_size=kernel_size, use_bias=False)
    c.initialize()
    x, y = X[np.newaxis, np.newaxis, :, :], Y[np.newaxis, np.newaxis, :, :]
    history = {}
    for n in range(1, num_epochs + 1):
        with autograd.record():
            residual = c(x) - y
            cost = (residual * residual).sum()
        cost.backward()
        c.weight.data()[:] -= c.weight.grad() * lr
        history[n] = cost.item()
    return c.weight.data()[0][0]""",
    "comp_conv2d": """def comp_conv2d(conv2d, X):
    conv2d.initialize()
    Y = conv2d(X.reshape((1, 1) + X.shape))
    return Y.reshape(Y.shape[2:])""",
    "conv_output_shape": """def conv_output_shape(
    input_shape, kernel_size, padding=(0, 0), strides=(1, 1)
):
    result = [0, 0]
    for d, (n, k) in enumerate(zip(input_shape, kernel_size)):
        result[d] = int((n + 2 * padding[d] - k) / strides[d]) + 1
    return result[0], result[1]""",
    "corr2d_multi_in": """def corr2d_multi_in(X, K):
    per_channel = [corr2d(X[i], K[i]) for i in range(K.shape[0])]
    return sum(per_channel)""",
    "corr2d_multi_in_out": """def corr2d_multi_in_out(X, K):
    Y = [corr2d_multi_in(X, K[i]) for i in range(len(K))]
    return np.stack(Y)""",
    "corr2d_multi_in_out_1x1": """def corr2d_multi_in_out_1x1(X, K):
    c_in = X.shape[0]
    spatial = X.shape[1:]
    Y = np.dot(K.reshape(-1, c_in), X.reshape(c_in, -1))
    return Y.reshape(-1, *spatial)""",
}

# The extra imports a student's own code needs, added to the stub's imports.
EXTRA_IMPORTS = {
    "ben": "from mxnet import gluon\n",
    "chloe": "import math\n\nfrom mxnet import init\n",
    "dev": "import functools\n",
}


def definition_block(name: str) -> re.Pattern:
    """A stub's whole definition of name, up to the next cell marker."""
    return re.compile(rf"(?ms)^(?:def|class) {re.escape(name)}\b.*?(?=\n\n+# %%)")


def filled(stub: str, code: dict[str, str], extra_imports: str = "") -> str:
    """A stub file with the student's definitions in place of the unfinished ones."""
    for name, text in code.items():
        stub, count = definition_block(name).subn(lambda _, text=text: text, stub)
        assert count <= 1
    if extra_imports:
        stub = stub.replace("from mxnet import", extra_imports + "from mxnet import", 1)
    return stub


def stub_texts() -> dict[str, str]:
    return {name: (EXERCISES / f"{name}.py").read_text() for name in STUB_FILES}


def student_files(code: dict[str, str], extra_imports: str = "") -> dict[str, str]:
    return {name: filled(text, code, extra_imports) for name, text in stub_texts().items()}


def one_file(files: dict[str, str]) -> str:
    """The three files as one (no cross import needed then)."""
    return "\n\n".join(files.values()).replace("from conv_layer import corr2d\n", "")


def as_notebook(text: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for chunk in text.split("# %%"):
        if chunk.startswith(" [markdown]"):
            lines = chunk.removeprefix(" [markdown]").strip().splitlines()
            markdown = "\n".join(line.removeprefix("# ").removeprefix("#") for line in lines)
            notebook.cells.append(nbformat.v4.new_markdown_cell(markdown))
        elif chunk.strip():
            notebook.cells.append(nbformat.v4.new_code_cell(chunk.strip()))
    return notebook


def write_folder(folder: Path, files: dict[str, str], notebooks: bool = False) -> Path:
    folder.mkdir()
    for name, text in files.items():
        if notebooks:
            nbformat.write(as_notebook(text), folder / f"{name}.ipynb")
        else:
            (folder / f"{name}.py").write_text(text)
    return folder


# -- the usual disguises --------------------------------------------------------------------------


def renamed(text: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text


def reordered(text: str, names: list[str]) -> str:
    """The definitions of names moved to the top of the file, in reverse order."""
    blocks = []
    for name in names:
        match = definition_block(name).search(text)
        blocks.append(match.group(0))
        text = text[: match.start()] + text[match.end() :]
    header, _, rest = text.partition("npx.set_np()\n")
    return header + "npx.set_np()\n\n\n" + "\n\n\n".join(reversed(blocks)) + "\n" + rest


def restyled(text: str) -> str:
    """Other comments, no blank lines, two-space indents, spaces around operators."""
    lines = []
    for line in text.splitlines():
        code = re.sub(r"\s*#.*$", "", line) if "#" in line and '"' not in line else line
        if not code.strip():
            continue
        indent = len(code) - len(code.lstrip(" "))
        body = re.sub(r",(?=\S)", ", ", code.strip()).replace("=0", "= 0")
        lines.append(" " * (indent // 2) + body + ("  # my version" if body.endswith(":") else ""))
    return "\n".join(lines) + "\n"


def pasted_from_notebooks(folder: Path) -> str:
    """What saving each notebook as a script and pasting them into one file gives."""
    parts = []
    for notebook_path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(notebook_path, as_version=4)
        for number, cell in enumerate(notebook.cells, start=1):
            if cell.cell_type == "code":
                parts.append(f"# In[{number}]:\n\n{cell.source}\n")
    return "\n\n".join(parts).replace("from conv_layer import corr2d\n", "")


ANA_RENAMES = {
    "kh": "kernel_h",
    "kw": "kernel_w",
    "rows": "n_rows",
    "cols": "n_cols",
    "out": "result",
    "window": "region",
    "net": "layer",
    "inputs": "x_batch",
    "targets": "y_batch",
    "err": "loss",
    "total": "acc",
    "maps": "outputs",
    "pixels": "flat_x",
    "mixing": "flat_k",
}

PLANTED = {("ana", "fred"), ("ben", "gina"), ("chloe", "hugo"), ("dev", "ivy")}


def make_class(folder: Path) -> Path:
    """The class folder: one entry per student."""
    folder.mkdir(parents=True, exist_ok=True)
    ana = student_files(ANA)
    write_folder(folder / "ana", ana)
    write_folder(folder / "fred", {n: renamed(t, ANA_RENAMES) for n, t in ana.items()})
    ben = one_file(student_files(BEN, EXTRA_IMPORTS["ben"]))
    nbformat.write(as_notebook(ben), folder / "ben.ipynb")
    (folder / "gina.py").write_text(reordered(ben, [*BEN]))
    chloe = one_file(student_files(CHLOE, EXTRA_IMPORTS["chloe"]))
    (folder / "chloe.py").write_text(chloe)
    (folder / "hugo.py").write_text(restyled(chloe))
    dev = write_folder(folder / "dev", student_files(DEV, EXTRA_IMPORTS["dev"]), notebooks=True)
    (folder / "ivy.py").write_text(pasted_from_notebooks(dev))
    write_folder(folder / "eli", student_files(ELI))
    shutil.copytree(EXERCISES, folder / "kim")  # handed in the stubs, nothing done
    (folder / "lea.py").write_text(
        one_file({n: (SOLUTIONS / f"{n}.py").read_text() for n in STUB_FILES})
    )
    return folder
