"""Gradient checks for the scratch models, on both sides, in float64 (``djl-parity gradcheck``).

On random small problems (random weights, tokens and carried states, vocabulary and sizes below):

- ``hand-vs-autograd`` (birnn-hand): the hand-derived gradients of the training step against
  autograd on the same forward pass: PyTorch's on the Python side, DJL's GradientCollector on the
  Java side.
- ``djl-vs-torch`` (rnn/gru/lstm-scratch, whose training gradients *are* autograd's): the Java
  model's GradientCollector gradients against PyTorch autograd on the port, same weights and batch.
- ``finite-diff``: the training gradient against central differences of the loss,
  ``(L(p + e) - L(p - e)) / 2e`` with ``e = FD_STEP``, at ``FD_ENTRIES`` random entries of every
  parameter, on each side.

The error of a parameter is ``max |g - ref| / max |ref|`` over its entries (for finite
differences, over the checked entries, relative to the largest gradient entry of the
parameter), worst over all problems. A check fails above its threshold.
"""
