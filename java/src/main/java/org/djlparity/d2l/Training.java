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

    /** Clips the global gradient norm to theta (docs/notebook.md, "Training"). */
    public static void gradClipping(Object net, int theta, NDManager manager) {
        clipGradients(net, theta, manager);
    }

    /** Same as {@link #gradClipping}, returning the norm measured before clipping. */
    public static double clipGradients(Object net, int theta, NDManager manager) {
        NDList params = parameterArrays(net);
        double result = 0;
        for (NDArray p : params) {
            NDArray g = p.getGradient();
            g.attach(manager);
            result += g.pow(2).sum().getFloat(); // float32 scalar added into a double
        }
        double norm = Math.sqrt(result);
        if (norm > theta) {
            for (NDArray p : params) {
                NDArray g = p.getGradient();
                g.attach(manager);
                g.muli(theta / norm);
            }
        }
        return norm;
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
