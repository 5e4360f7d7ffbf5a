"""An autograder for the convolution chapter of Dive into Deep Learning (MXNet edition)."""
