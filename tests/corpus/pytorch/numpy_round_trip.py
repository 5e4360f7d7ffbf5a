# Convolutions with NumPy doing the arithmetic: tensors in, NumPy inside, tensors out.
import math

import numpy as np
import torch
from torch import nn


def corr2d(X, K):
    x = X.detach().numpy()
    k = K.detach().numpy()
    h, w = k.shape
    Y = np.zeros((x.shape[0] - h + 1, x.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum(x[i:i + h, j:j + w] * k)
    return torch.from_numpy(Y)


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias.item()


def conv_output_shape(input_shape, kernel_size, padding=(0, 0), strides=(1, 1)):
    n_h, n_w = input_shape
    k_h, k_w = kernel_size
    p_h, p_w = padding
    s_h, s_w = strides
    return (math.floor((n_h - k_h + 2 * p_h) / s_h) + 1,
            math.floor((n_w - k_w + 2 * p_w) / s_w) + 1)


def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    x = X.numpy().reshape(c_i, h * w)
    k = K.numpy().reshape(c_o, c_i)
    return (k @ x).reshape(c_o, h, w)


X = torch.tensor([[0., 1., 2.], [3., 4., 5.], [6., 7., 8.]])
K = torch.tensor([[0., 1.], [2., 3.]])
print(corr2d(X, K))
print(conv_output_shape((8, 8), (3, 3), (1, 1), (2, 2)))
print(corr2d_multi_in_out_1x1(torch.rand(3, 3, 3), torch.rand(2, 3, 1, 1)).shape)
