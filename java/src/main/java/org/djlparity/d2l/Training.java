package org.djlparity.d2l;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

/** Scratch SGD and gradient clipping of the D2L notebooks (docs/notebook.md, "Training"). */
public final class Training {

    private Training() {}

    /**
     * In-place {@code param = param - grad * lr / batchSize}. Does NOT zero the gradient (like
     * the original).
     */
    public static void sgd(NDList params, float lr, int batchSize, NDManager manager) {
        for (NDArray param : params) {
            param.subi(param.getGradient().mul(lr).div(batchSize));
        }
    }

    /** The same update with the gradients given (a model that computes them by hand). */
    public static void sgd(NDList params, NDList grads, float lr, int batchSize) {
        for (int i = 0; i < params.size(); i++) {
            params.get(i).subi(grads.get(i).mul(lr).div(batchSize));
        }
    }

    /** What clipping measured: each parameter's float32 sum of squared gradients, and their norm. */
    public static final class Clip {
        public final float[] sq;
        public final double norm;

        Clip(float[] sq, double norm) {
            this.sq = sq;
            this.norm = norm;
        }
    }

    /** Clips the global gradient norm to theta (docs/notebook.md, "Training"). */
    public static void gradClipping(Object net, int theta, NDManager manager) {
        clipGradients(net, theta, manager);
    }

    /** Same as {@link #gradClipping}, returning what it measured before clipping. */
    public static Clip clipGradients(Object net, int theta, NDManager manager) {
        NDList grads = gradients(net);
        float[] sq = new float[grads.size()];
        double result = 0;
        for (int i = 0; i < sq.length; i++) {
            NDArray g = grads.get(i);
            g.attach(manager);
            sq[i] = g.pow(2).sum().getFloat();
            result += sq[i]; // float32 scalar added into a double
        }
        double norm = Math.sqrt(result);
        if (norm > theta) {
            for (NDArray g : grads) {
                g.muli(theta / norm);
            }
        }
        return new Clip(sq, norm);
    }

    /**
     * The gradient arrays, in parameter order: handles on the autograd gradients (new each call,
     * the caller may close them), or a {@link BiRnnHand}'s own last gradients (live: never close).
     */
    public static NDList gradients(Object net) {
        if (net instanceof BiRnnHand) {
            return ((BiRnnHand) net).getGradients();
        }
        NDList out = new NDList();
        for (NDArray p : parameterArrays(net)) {
            out.add(p.getGradient());
        }
        return out;
    }

    /** The parameter arrays in the net's own order. */
    public static NDList parameterArrays(Object net) {
        if (net instanceof RNNModelScratch) {
            return ((RNNModelScratch) net).getParams();
        }
        NDList out = new NDList();
        for (Pair<String, Parameter> p : ((AbstractBlock) net).getParameters()) {
            out.add(p.getValue().getArray());
        }
        return out;
    }
}
