# In[ ]:
%matplotlib inline
from d2l import mxnet as d2l
from mxnet import autograd, np, npx
from mxnet.gluon import nn
npx.set_np()

# In[ ]:
def corr2d(X, K):  #@save
    """Slide K over X and sum each window times K."""
    h, w = K.shape
    Y = d2l.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), ctx=X.ctx)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = d2l.reduce_sum((X[i: i + h, j: j + w] * K))
    return Y

# In[ ]:
X = d2l.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = d2l.tensor([[0.0, 1.0], [2.0, 3.0]])
corr2d(X, K)

# In[ ]:
class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get('weight', shape=kernel_size)
        self.bias = self.params.get('bias', shape=(1,))

    def forward(self, x):
        return corr2d(x, self.weight.data()) + self.bias.data()

# In[ ]:
X = d2l.ones((6, 8))
X[:, 2:6] = 0
K = d2l.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
d2l.set_figsize()
d2l.plt.imshow(Y.asnumpy())
d2l.plt.show()
device = d2l.try_gpu()
print(device)

# In[ ]:
def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    conv2d = nn.Conv2D(1, kernel_size=kernel_size, use_bias=False)
    conv2d.initialize()
    X = d2l.reshape(X, (1, 1) + X.shape)
    Y = d2l.reshape(Y, (1, 1) + Y.shape)
    timer = d2l.Timer()
    for i in range(num_epochs):
        with autograd.record():
            Y_hat = conv2d(X)
            l = (Y_hat - Y) ** 2
        l.backward()
        # one step downhill
        conv2d.weight.data()[:] -= lr * conv2d.weight.grad()
        if (i + 1) % 2 == 0:
            print(f'epoch {i + 1}, loss {float(l.sum()):.3f}, {timer.stop():.4f} sec')
    return d2l.reshape(conv2d.weight.data(), kernel_size)

# In[ ]:
learn_kernel(X, Y, (1, 2))

# In[ ]:
def comp_conv2d(conv2d, X):
    conv2d.initialize()
    # add a batch axis and a channel axis, one each
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # drop the batch and channel axes again
    return Y.reshape(Y.shape[2:])

conv2d = nn.Conv2D(1, kernel_size=3, padding=1)
X = np.random.uniform(size=(8, 8))
comp_conv2d(conv2d, X).shape

# In[ ]:
def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    (n_h, n_w), (k_h, k_w) = input_shape, kernel_size
    (p_h, p_w), (s_h, s_w) = padding, strides
    return ((n_h - k_h + 2 * p_h + s_h) // s_h, (n_w - k_w + 2 * p_w + s_w) // s_w)

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
