# %% [markdown]
# # Multiple Input and Output Channels
#
# These exercises build on `corr2d` from `conv_layer`: a bug there shows up here too.

# %%
from mxnet import np, npx

from conv_layer import corr2d

npx.set_np()

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
X = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
K = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])
print(corr2d_multi_in(X, K))  # [[ 56.  72.] [104. 120.]]

# %% [markdown]
# ## Multiple output channels
#
# One multi-input kernel per output channel; the outputs are stacked along a new first axis.


# %%
def corr2d_multi_in_out(X, K):
    """K has shape (c_o, c_i, k_h, k_w); return an array of shape (c_o, h', w')."""
    # TODO: write this part.
    raise NotImplementedError("write this part")


# %%
K = np.stack((K, K + 1, K + 2))
print(K.shape, corr2d_multi_in_out(X, K).shape)  # (3, 2, 2, 2) (3, 2, 2)

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
X = np.random.uniform(size=(3, 3, 3))
K = np.random.uniform(size=(2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
print(float(np.abs(Y1 - Y2).sum()) < 1e-6)  # True
