import torch


def corr2d(X, K):
    h, w = K.shape
    rows = []
    for i in range(X.shape[0] - h + 1):
        rows.append(torch.stack([(X[i:i + h, j:j + w] * K).sum()
                                 for j in range(X.shape[1] - w + 1)]))
    return torch.stack(rows)


def corr2d_multi_in(X, K):
    return torch.stack([corr2d(x, k) for x, k in zip(X, K)]).sum(dim=0)


def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], dim=0)


def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = torch.mm(K.view(c_o, c_i), X.view(c_i, h * w))
    return Y.view(c_o, h, w)


X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
print(corr2d_multi_in(X, K))
K = torch.stack((K, K + 1, K + 2))
print(corr2d_multi_in_out(X, K).shape)
X = torch.randn(3, 3, 3)
K = torch.randn(2, 3, 1, 1)
print(torch.allclose(corr2d_multi_in_out_1x1(X, K), corr2d_multi_in_out(X, K), atol=1e-6))
