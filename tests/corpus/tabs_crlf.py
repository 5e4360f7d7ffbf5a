from mxnet import np, npx
from mxnet.gluon import nn
npx.set_np()


def corr2d(X, K):
	h, w = K.shape
	Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
	for i in range(Y.shape[0]):
		for j in range(Y.shape[1]):
			Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
	return Y


class Conv2D(nn.Block):
	def __init__(self, kernel_size, **kwargs):
		super().__init__(**kwargs)
		self.weight = self.params.get("weight", shape=kernel_size)
		self.bias = self.params.get("bias", shape=(1,))

	def forward(self, x):
		return corr2d(x, self.weight.data()) + self.bias.data()
