# Everything in double precision: my own tensors are float64 from here on.
import torch
from torch import nn

torch.set_default_dtype(torch.float64)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = torch.sum(X[i:i + h, j:j + w] * K)
    return Y


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    @torch.no_grad()
    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    # the layer is float64 like everything else; the data goes in as it comes
    conv2d = nn.LazyConv2d(1, kernel_size=kernel_size, bias=False)
    X = X.reshape((1, 1) + X.shape)
    Y = Y.reshape((1, 1) + Y.shape)
    for epoch in range(num_epochs):
        loss = ((conv2d(X) - Y) ** 2).sum()
        conv2d.zero_grad()
        loss.backward()
        with torch.no_grad():
            conv2d.weight -= lr * conv2d.weight.grad
    return conv2d.weight.detach().reshape(kernel_size)


def comp_conv2d(conv2d, X):
    out = conv2d(X.view(1, 1, *X.shape))
    return out.squeeze(0).squeeze(0)


X = torch.ones((6, 8))
X[:, 2:6] = 0
print(corr2d(X, torch.tensor([[1.0, -1.0]])))
print(comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1), torch.rand(size=(8, 8))).shape)
