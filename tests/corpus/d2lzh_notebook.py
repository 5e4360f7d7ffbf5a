# In[ ]:
%matplotlib inline
import d2lzh as d2l
from mxnet import autograd, nd
from mxnet.gluon import nn

# In[ ]:
def corr2d(X, K):  # 二维互相关，自己写的版本
    h, w = K.shape
    Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y

# In[ ]:
X = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = nd.array([[0, 1], [2, 3]])
corr2d(X, K)

# In[ ]:
class Conv2D(nn.Block):
    def __init__(self, kernel_size, **kwargs):
        super(Conv2D, self).__init__(**kwargs)
        self.weight = self.params.get('weight', shape=kernel_size)
        self.bias = self.params.get('bias', shape=(1,))

    def forward(self, x):
        return corr2d(x, self.weight.data()) + self.bias.data()

# In[ ]:
def comp_conv2d(conv2d, X):
    conv2d.initialize()
    # 加上批量维和通道维，各为1
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])  # 去掉前两维

conv2d = nn.Conv2D(1, kernel_size=(5, 3), padding=(2, 1))
X = nd.random.uniform(shape=(8, 8))
comp_conv2d(conv2d, X).shape

# In[ ]:
def corr2d_multi_in(X, K):
    # 每个通道各做一次互相关，再用add_n把结果加起来
    # （结果列表展开成参数）
    return nd.add_n(*[d2l.corr2d(x, k) for x, k in zip(X, K)])

def corr2d_multi_in_out(X, K):
    # 每个输出通道用K中的一个核，结果用stack叠在一起
    return nd.stack(*[corr2d_multi_in(X, k) for k in K])

def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = nd.dot(K, X)  # 1x1卷积就是矩阵乘法
    return Y.reshape((c_o, h, w))

# In[ ]:
X = nd.random.uniform(shape=(3, 3, 3))
K = nd.random.uniform(shape=(2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
(Y1 - Y2).norm().asscalar() < 1e-6
