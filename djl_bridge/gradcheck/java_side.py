"""The Java side of the gradient checks, run in a worker process: DJL's GradientCollector, birnn-hand's hand
step and the loss in float64 (``bridge.GradProbe``), and the finite differences of that loss."""

from __future__ import annotations

import numpy as np

from djl_bridge.gradcheck.problems import Arrays, Problem, finite_difference_errors


class JavaSide:
    def __init__(
        self, model: str, p: Problem, weights: Arrays, X: np.ndarray, Y: np.ndarray, state: list[np.ndarray] | None
    ) -> None:
        from djl_bridge.jvm.convert import to_ndarray
        from djl_bridge.jvm.errors import java_call
        from djl_bridge.jvm.runtime import jclass, start

        start()
        self._to_nd, self._call = to_ndarray, java_call
        self.probe = jclass("org.djlparity.bridge.GradProbe")
        self.params = jclass("org.djlparity.bridge.Params")
        with java_call():
            self.manager = jclass("ai.djl.ndarray.NDManager").newBaseManager(jclass("ai.djl.Device").cpu())
            d2l = "org.djlparity.d2l."
            if model == "birnn-hand":
                f64 = jclass("ai.djl.ndarray.types.DataType").FLOAT64
                self.net = jclass(d2l + "BiRnnHand").create(
                    p.vocab, p.hidden, p.bias, p.learn_boundary, f64, self.manager.getDevice(), self.manager
                )
            else:
                self.net = jclass(d2l + "Models").create(
                    model, p.vocab, p.hidden, 1, False, self.manager.getDevice(), self.manager
                )
                self.probe.toFloat64(self.net)
            self.names = [str(n) for n in self.params.names(self.net)]
            self.X, self.Y = to_ndarray(self.manager, X), to_ndarray(self.manager, Y)
            self.state = None
            if state is not None:
                self.state = jclass("ai.djl.ndarray.NDList")()
                for s in state:
                    self.state.add(to_ndarray(self.manager, s))
        self.weights = weights
        self._load(weights)

    def _load(self, weights: Arrays) -> None:
        with self._call():
            for name in self.names:
                self.params.set(self.net, name, self._to_nd(self.manager, weights[name]))

    def loss_at(self, name: str, value: np.ndarray) -> float:
        with self._call():
            self.params.set(self.net, name, self._to_nd(self.manager, value))
            loss = float(self.probe.loss(self.net, self.X, self.Y, self.state).getDouble())
            self.params.set(self.net, name, self._to_nd(self.manager, self.weights[name]))
        return loss

    def _named(self, arrays) -> Arrays:
        from djl_bridge.jvm.convert import to_numpy

        return {n: to_numpy(a) for n, a in zip(self.names, arrays)}

    def autograd(self) -> Arrays:
        with self._call():
            return self._named(self.probe.autograd(self.net, self.X, self.Y, self.state))

    def hand(self) -> Arrays:
        with self._call():
            return self._named(self.probe.hand(self.net, self.X, self.Y, self.state))

    def close(self) -> None:
        with self._call():
            self.manager.close()


def check(model: str, problem: Problem, weights: Arrays, X, Y, state, fd_seed: list[int]) -> dict:
    """One problem on the Java side: its autograd gradients, the hand ones (birnn-hand), the finite differences."""
    java = JavaSide(model, problem, weights, X, Y, state)
    try:
        autograd = java.autograd()
        hand = java.hand() if model == "birnn-hand" else None
        grads = hand if hand is not None else autograd
        fd = finite_difference_errors(grads, weights, java.loss_at, np.random.default_rng(fd_seed))
    finally:
        java.close()
    return {"autograd": autograd, "hand": hand, "fd_errors": fd}
