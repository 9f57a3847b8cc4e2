"""djl-parity: the D2L Java bi-RNN notebook on PyTorch and on real DJL, compared number by number."""

__version__ = "0.1.0"
