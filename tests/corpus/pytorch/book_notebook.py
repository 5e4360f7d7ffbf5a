# In[ ]:
%matplotlib inline
from d2l import torch as d2l
import torch
from torch import nn

# In[ ]:
def corr2d(X, K):  #@save
    """Slide K over X and sum each window times K."""
    h, w = K.shape
    Y = d2l.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = d2l.reduce_sum((X[i: i + h, j: j + w] * K))
    return Y

# In[ ]:
X = d2l.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = d2l.tensor([[0.0, 1.0], [2.0, 3.0]])
corr2d(X, K)

# In[ ]:
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias

# In[ ]:
X = d2l.ones((6, 8))
X[:, 2:6] = 0
K = d2l.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
d2l.plt.imshow(Y)
corr2d(d2l.transpose(X), K)

# In[ ]:
def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    # a layer with one input and one output channel and no bias,
    # whose kernel is what training should find
    conv2d = nn.LazyConv2d(1, kernel_size=kernel_size, bias=False)
    # the layer wants 4-D tensors, so give the image and its edge
    # map a batch axis and a channel axis
    X = X.reshape((1, 1) + X.shape)
    Y = Y.reshape((1, 1) + Y.shape)
    for i in range(num_epochs):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        # one step downhill
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        if (i + 1) % 2 == 0:
            print(f'epoch {i + 1}, loss {l.sum():.3f}')
    return d2l.reshape(conv2d.weight.data, kernel_size)

# In[ ]:
learn_kernel(X, Y, (1, 2))

# In[ ]:
# run the layer on a 2-D image: add batch and channel axes first,
# then take them off the output
def comp_conv2d(conv2d, X):
    # add a batch axis and a channel axis, one each
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # drop the batch and channel axes again
    return Y.reshape(Y.shape[2:])

conv2d = nn.LazyConv2d(1, kernel_size=3, padding=1)
X = torch.rand(size=(8, 8))
comp_conv2d(conv2d, X).shape

# In[ ]:
conv2d = nn.LazyConv2d(1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
comp_conv2d(conv2d, X).shape

# In[ ]:
def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_size
    (p_h, p_w), (s_h, s_w) = padding, strides
    return ((n_h - k_h + 2 * p_h + s_h) // s_h, (n_w - k_w + 2 * p_w + s_w) // s_w)

conv_output_shape((8, 8), (3, 5), (0, 1), (3, 4))

# In[ ]:
def corr2d_multi_in(X, K):
    # one corr2d per channel pair, summed over the channels
    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))

def corr2d_multi_in_out(X, K):
    # one output channel per kernel in K: each is a multi-input
    # correlation with all of X, and the results are put on a new
    # first axis
    return d2l.stack([corr2d_multi_in(X, k) for k in K], 0)

def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = d2l.reshape(X, (c_i, h * w))
    K = d2l.reshape(K, (c_o, c_i))
    # a 1x1 convolution is this one matrix product
    Y = d2l.matmul(K, X)
    return d2l.reshape(Y, (c_o, h, w))

# In[ ]:
X = d2l.normal(0, 1, (3, 3, 3))
K = d2l.normal(0, 1, (2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
assert float(d2l.reduce_sum(d2l.abs(Y1 - Y2))) < 1e-6
