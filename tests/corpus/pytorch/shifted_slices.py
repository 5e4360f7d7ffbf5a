"""HW3: convolutions. Loops over the kernel instead of over the output: each kernel entry
scales a shifted copy of the input, added up in place."""
import torch
import torch.nn as nn


def corr2d(X, K):
    h, w = K.shape
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = torch.zeros(out_h, out_w, dtype=X.dtype, device=X.device)
    for a in range(h):
        for b in range(w):
            Y += K[a, b] * X[a:a + out_h, b:b + out_w]
    return Y


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super(Conv2D, self).__init__()
        self.weight = nn.Parameter(torch.randn(kernel_size) * 0.01)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    conv2d = nn.Conv2d(1, 1, kernel_size, bias=False).to(X.device)
    optimizer = torch.optim.SGD(conv2d.parameters(), lr=lr)
    X, Y = X[None, None], Y[None, None]
    for epoch in range(num_epochs):
        optimizer.zero_grad()
        loss = ((conv2d(X) - Y) ** 2).sum()
        loss.backward()
        optimizer.step()
    return conv2d.weight.detach()[0, 0]


def corr2d_multi_in(X, K):
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y


if __name__ == "__main__":
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    Y = corr2d(X, K)
    print(Y)
    layer = Conv2D((1, 2))
    print(layer(X).shape, [name for name, _ in layer.named_parameters()])
    print(learn_kernel(X, Y, (1, 2)))
