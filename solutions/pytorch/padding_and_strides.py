# %% [markdown]
# # Padding and Stride
#
# Padding adds rows and columns of zeros around the input; the stride is how far the kernel
# moves at each step. Both change the shape of the output.

# %%
import torch
from torch import nn

# %% [markdown]
# ## Padding
#
# `comp_conv2d` runs a PyTorch convolution layer on a 2-D input: it adds the batch and channel
# dimensions that `nn.Conv2d` expects, and drops them from the result. A PyTorch layer
# initializes its weights when it is made, so there is nothing to initialize here.


# %%
def comp_conv2d(conv2d, X):
    """Apply conv2d to the 2-D tensor X and return the 2-D result."""
    # BEGIN SOLUTION
    # Add batch and channel dimension.
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # Exclude the first two dimensions.
    return Y.reshape(Y.shape[2:])
    # END SOLUTION


# %%
conv2d = nn.Conv2d(1, 1, kernel_size=3, padding=1)
X = torch.rand(size=(8, 8))
print(comp_conv2d(conv2d, X).shape)  # torch.Size([8, 8])

# %% [markdown]
# ## Stride

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2)
print(comp_conv2d(conv2d, X).shape)  # torch.Size([4, 4])

# %% [markdown]
# A slightly more complicated example.

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
print(comp_conv2d(conv2d, X).shape)  # torch.Size([2, 2])

# %% [markdown]
# ## The output shape
#
# With input `(n_h, n_w)`, kernel `(k_h, k_w)`, padding `(p_h, p_w)` added on *each* side and
# stride `(s_h, s_w)`, the output height is `(n_h + 2 p_h - k_h) // s_h + 1`, and likewise the
# width.


# %%
def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    """Return the (height, width) that nn.Conv2d outputs, as a tuple of ints."""
    # BEGIN SOLUTION
    return tuple(
        (n + 2 * p - k) // s + 1
        for n, k, p, s in zip(input_shape, kernel_size, padding, strides)
    )
    # END SOLUTION


# %%
print(conv_output_shape((8, 8), (3, 5), padding=(0, 1), strides=(3, 4)))  # (2, 2)
