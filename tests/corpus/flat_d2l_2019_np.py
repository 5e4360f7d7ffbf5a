import d2l
from mxnet import np, npx
npx.set_np()


def corr2d_multi_in(X, K):
    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    return np.stack([corr2d_multi_in(X, k) for k in K])


def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape(c_i, h * w)
    K = K.reshape(c_o, c_i)
    Y = np.dot(K, X)
    return Y.reshape(c_o, h, w)


X = np.random.uniform(size=(3, 3, 3))
K = np.random.uniform(size=(2, 3, 1, 1))
print(np.abs(corr2d_multi_in_out_1x1(X, K) - corr2d_multi_in_out(X, K)).sum() < 1e-6)
