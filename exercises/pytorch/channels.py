# %% [markdown]
# # Multiple Input and Output Channels
#
# These exercises build on `corr2d` from `conv_layer`: a bug there shows up here too.

# %%
import torch

from conv_layer import corr2d

# %% [markdown]
# ## Multiple input channels
#
# Cross-correlate each input channel with its own kernel channel, then add the results up.


# %%
def corr2d_multi_in(X, K):
    """X has shape (c_i, h, w) and K (c_i, k_h, k_w); return the (h', w') sum over channels."""
    # TODO: write this part.
    raise NotImplementedError("write this part")


# %%
X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
print(corr2d_multi_in(X, K))  # tensor([[ 56.,  72.], [104., 120.]])

# %% [markdown]
# ## Multiple output channels
#
# One multi-input kernel per output channel; the outputs are stacked along a new first axis.


# %%
def corr2d_multi_in_out(X, K):
    """K has shape (c_o, c_i, k_h, k_w); return a tensor of shape (c_o, h', w')."""
    # TODO: write this part.
    raise NotImplementedError("write this part")


# %%
K = torch.stack((K, K + 1, K + 2), 0)
print(K.shape, corr2d_multi_in_out(X, K).shape)  # torch.Size([3, 2, 2, 2]) torch.Size([3, 2, 2])

# %% [markdown]
# ## 1 x 1 convolution
#
# A 1 x 1 kernel mixes channels at each pixel: it is a fully connected layer applied to every
# pixel, so it can be written as one matrix product.


# %%
def corr2d_multi_in_out_1x1(X, K):
    """K has shape (c_o, c_i, 1, 1); compute the convolution as one matrix product."""
    # TODO: write this part.
    raise NotImplementedError("write this part")


# %%
X = torch.normal(0, 1, (3, 3, 3))
K = torch.normal(0, 1, (2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
print(float(torch.abs(Y1 - Y2).sum()) < 1e-6)  # True
