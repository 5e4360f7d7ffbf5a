from mxnet import np, npx
npx.set_np()


def corr2d(X, K):
    print("input", X.shape, "kernel", K.shape)
    h, w = K.shape
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            total = 0
            for a in range(h):
                for b in range(w):
                    total += X[i + a, j + b] * K[a, b]
            Y[i, j] = total
    print("output", Y)
    return Y


def corr2d_multi_in(X, K):
    Y = 0
    for x, k in zip(X, K):
        Y += corr2d(x, k)
    return Y


def corr2d_multi_in_out(X, K):
    outputs = []
    for k in K:
        outputs.append(corr2d_multi_in(X, k))
        print("channel done")
    return np.stack(outputs, axis=0)
