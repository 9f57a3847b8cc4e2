package org.djlparity.bridge;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;

import org.djlparity.d2l.BiRnnHand;
import org.djlparity.d2l.RNNModelScratch;

/**
 * The Java side of the gradient checks (djl_bridge/gradcheck.py): the training loss of one batch,
 * its gradients by DJL's GradientCollector, and birnn-hand's gradients by hand. A null state
 * means the model's own beginState (for birnn-hand: the boundary h_0, which then gets a gradient).
 */
public final class GradProbe {

    private GradProbe() {}

    /** The mean softmax cross-entropy of the training step, targets Y (batch, steps). */
    public static NDArray loss(RNNModelScratch net, NDArray X, NDArray Y, NDList state) {
        NDList s = state != null ? state : net.beginState((int) X.getShape().get(0), X.getDevice());
        NDArray q = net.forward(X, s).getKey();
        return new SoftmaxCrossEntropyLoss().evaluate(new NDList(targets(Y)), new NDList(q)).mean();
    }

    private static NDArray targets(NDArray Y) {
        return Y.transpose(1, 0).reshape(new Shape(-1));
    }

    /** Gradients of {@link #loss} by GradientCollector, as copies in parameter order. */
    public static NDList autograd(RNNModelScratch net, NDArray X, NDArray Y, NDList state) {
        for (NDArray p : net.getParams()) {
            p.setRequiresGradient(true);
            NDArray g = p.getGradient(); // gradients accumulate on this engine: start from zero
            g.subi(g);
            g.close();
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss(net, X, Y, state));
        }
        NDList out = new NDList();
        for (NDArray p : net.getParams()) {
            NDArray g = p.getGradient();
            NDArray c = g.duplicate();
            c.attach(X.getManager());
            g.close();
            out.add(c);
        }
        return out;
    }

    /** birnn-hand's hand-derived gradients of the same loss, in parameter order. */
    public static NDList hand(BiRnnHand net, NDArray X, NDArray Y, NDList state) {
        boolean fromBoundary = state == null;
        NDList s = fromBoundary ? net.beginState((int) X.getShape().get(0), X.getDevice()) : state;
        net.handStep(X, targets(Y), s, fromBoundary, new SoftmaxCrossEntropyLoss());
        return net.getGradients();
    }

    /** Replaces a scratch model's parameters by float64 copies (the checks run in float64). */
    public static void toFloat64(RNNModelScratch net) {
        NDList params = net.getParams();
        for (int i = 0; i < params.size(); i++) {
            NDArray old = params.get(i);
            NDArray d = old.toType(DataType.FLOAT64, true);
            d.attach(old.getManager());
            params.set(i, d);
            old.close();
        }
    }
}
