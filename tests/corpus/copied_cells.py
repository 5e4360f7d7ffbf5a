%matplotlib inline
%config InlineBackend.figure_format = 'svg'
from d2l import mxnet as d2l
from mxnet import autograd, np, npx
from mxnet.gluon import nn
npx.set_np()

def corr2d(X, K):
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), ctx=X.ctx)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y

X = np.ones((6, 8))
X[:, 2:6] = 0
K = np.array([[1.0, -1.0]])
Y = corr2d(X, K)
d2l.plt.imshow(Y.asnumpy())

!pip install d2l==1.0.3

# a layer with one input and one output channel and no bias,
# whose (1, 2) kernel is what training should find
conv2d = nn.Conv2D(1, kernel_size=(1, 2), use_bias=False)
conv2d.initialize()
X = X.reshape(1, 1, 6, 8)
Y = Y.reshape(1, 1, 6, 7)
lr = 3e-2  # step size
for i in range(10):
    with autograd.record():
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
    l.backward()
    conv2d.weight.data()[:] -= lr * conv2d.weight.grad()
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {float(l.sum()):.3f}')
print(conv2d.weight.data().reshape((1, 2)))
