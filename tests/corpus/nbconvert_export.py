#!/usr/bin/env python
# coding: utf-8

# # Padding and Stride

# In[1]:


get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().run_line_magic('config', "InlineBackend.figure_format = 'svg'")
from d2l import mxnet as d2l
from mxnet import np, npx
from mxnet.gluon import nn
npx.set_np()


# In[2]:


# run the layer on a 2-D image: initialize it, add batch and
# channel axes to the input, and take them off the output
# again
def comp_conv2d(conv2d, X):
    conv2d.initialize()
    # add a batch axis and a channel axis, one each
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # drop the batch and channel axes again
    return Y.reshape(Y.shape[2:])

# padding 1 keeps an 8x8 input 8x8 with a 3x3 kernel: one row and
# one column of zeros on each side
conv2d = nn.Conv2D(1, kernel_size=3, padding=1)
X = np.random.uniform(size=(8, 8))
comp_conv2d(conv2d, X).shape


# In[3]:


conv2d = nn.Conv2D(1, kernel_size=(3, 5), padding=(0, 1), strides=(3, 4))
comp_conv2d(conv2d, X).shape


# In[4]:


get_ipython().system('nvidia-smi')


# In[5]:


def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    out = []
    for n, k, p, s in zip(input_shape, kernel_size, padding, strides):
        out.append((n - k + 2 * p + s) // s)
    return tuple(out)

print(conv_output_shape((8, 8), (3, 5), (0, 1), (3, 4)))
