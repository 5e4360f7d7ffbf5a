# %%
import torch
from torch import nn

# %%
def corr2d(X, K):
    """Cross-correlation via unfold: every h x w window at once."""
    h, w = K.shape
    windows = X.unfold(0, h, 1).unfold(1, w, 1)  # (n_h - h + 1, n_w - w + 1, h, w)
    return (windows * K).sum(dim=(2, 3))

# %%
# Training by hand on our own corr2d: the kernel is a leaf tensor that requires grad.
def learn_kernel(X, Y, kernel_size, lr=3e-2, num_epochs=10):
    K = torch.zeros(kernel_size, device=X.device, requires_grad=True)
    for epoch in range(num_epochs):
        loss = ((corr2d(X, K) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            K -= lr * K.grad
        K.grad.zero_()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    return K

# %%
def comp_conv2d(conv2d, X):
    X = X.unsqueeze(0).unsqueeze(0)
    Y = conv2d(X)
    return Y[0, 0]

# %%
X = torch.ones((6, 8))
X[:, 2:6] = 0
Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
print(learn_kernel(X, Y, (1, 2)))
print(comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), torch.rand(8, 8)).shape)
