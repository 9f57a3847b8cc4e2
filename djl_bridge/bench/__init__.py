"""`djl-parity bench`: training speed of every side against an idiomatic PyTorch baseline, in one run."""
