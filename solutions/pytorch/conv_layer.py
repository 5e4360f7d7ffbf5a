# %% [markdown]
# # Convolutions for Images
#
# A convolutional layer computes a *cross-correlation*: a kernel slides over the input, and at
# each position the overlapping elements are multiplied and summed.

# %%
import torch
from torch import nn

# %% [markdown]
# ## The cross-correlation operator
#
# For an input of shape `(n_h, n_w)` and a kernel of shape `(k_h, k_w)` the output has shape
# `(n_h - k_h + 1, n_w - k_w + 1)`. Create the output on the input's device
# (`device=X.device`), so that the function works on a GPU too.


# %%
def corr2d(X, K):
    """Compute the 2-D cross-correlation of the tensor X with the kernel K."""
    # BEGIN SOLUTION
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y
    # END SOLUTION


# %%
X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
print(corr2d(X, K))  # tensor([[19., 25.], [37., 43.]])

# %% [markdown]
# ## Convolutional layers
#
# A convolutional layer cross-correlates its input with a kernel and adds a scalar bias. The
# kernel and the bias are the layer's two parameters, `weight` (of shape `kernel_size`) and
# `bias` (of shape `(1,)`), each an `nn.Parameter`.


# %%
class Conv2D(nn.Module):
    """A 2-D convolutional layer: corr2d of the input with `weight`, plus `bias`."""

    def __init__(self, kernel_size):
        super().__init__()
        # BEGIN SOLUTION
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return corr2d(x, self.weight) + self.bias
        # END SOLUTION


# %% [markdown]
# ## Object edge detection in images
#
# An image that is white on both sides and black in the middle. The kernel `[[1, -1]]` gives 1
# where white turns to black, -1 where black turns to white, and 0 elsewhere.

# %%
X = torch.ones((6, 8))
X[:, 2:6] = 0
K = torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
print(Y)

# %% [markdown]
# The same kernel cannot see horizontal edges: on the transposed image it gives zeros.

# %%
print(corr2d(X.t(), K))

# %% [markdown]
# ## Learning a kernel
#
# Given `X` and the edge map `Y`, gradient descent recovers the kernel. The training uses
# PyTorch's built-in `nn.Conv2d` (1 input channel, 1 output channel, no bias), which expects
# inputs of shape (example, channel, height, width). Each epoch computes the summed squared
# error, clears the old gradient, back-propagates, and moves the weight against its gradient:
# `conv2d.weight.data[:] -= lr * conv2d.weight.grad`.


# %%
def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    """Fit a kernel of shape kernel_size that maps X to Y; return it as a 2-D tensor."""
    # BEGIN SOLUTION
    conv2d = nn.Conv2d(1, 1, kernel_size=kernel_size, bias=False).to(X.device)
    X = X.reshape((1, 1) + X.shape)
    Y = Y.reshape((1, 1) + Y.shape)
    for _ in range(num_epochs):
        loss = ((conv2d(X) - Y) ** 2).sum()
        conv2d.zero_grad()
        loss.backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
    return conv2d.weight.data.reshape(kernel_size)
    # END SOLUTION


# %%
print(learn_kernel(X, Y, (1, 2)))  # close to [[1, -1]]
