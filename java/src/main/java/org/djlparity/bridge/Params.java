package org.djlparity.bridge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.Pair;

import org.djlparity.d2l.RNNModel;
import org.djlparity.d2l.RNNModelScratch;

import java.util.ArrayList;
import java.util.List;

/** Named access to a model's parameters for the Python bridge. */
public final class Params {

    private Params() {}

    /** DJL parameter keys (RNNModel) or scratch names (RNNModelScratch), in model order. */
    public static List<String> names(Object net) {
        if (net instanceof RNNModelScratch) {
            return new ArrayList<>(((RNNModelScratch) net).getParamNames());
        }
        return new ArrayList<>(((AbstractBlock) net).getParameters().keys());
    }

    /** The live parameter array (not a copy). */
    public static NDArray get(Object net, String name) {
        if (net instanceof RNNModelScratch) {
            RNNModelScratch s = (RNNModelScratch) net;
            int i = s.getParamNames().indexOf(name);
            if (i < 0) {
                throw new IllegalArgumentException(
                        "unknown parameter '" + name + "'; known: " + s.getParamNames());
            }
            return s.getParams().get(i);
        }
        for (Pair<String, Parameter> p : ((AbstractBlock) net).getParameters()) {
            if (p.getKey().equals(name)) {
                if (!p.getValue().isInitialized()) {
                    throw new IllegalStateException(
                            "parameter '" + name + "' is not initialized yet (call initialize)");
                }
                return p.getValue().getArray();
            }
        }
        throw new IllegalArgumentException(
                "unknown parameter '" + name + "'; known: " + names(net));
    }

    /** Copies value into the existing parameter array in place; its gradient stays attached. */
    public static void set(Object net, String name, NDArray value) {
        NDArray target = get(net, name);
        if (!target.getShape().equals(value.getShape())) {
            throw new IllegalArgumentException(
                    "shape mismatch for '" + name + "': parameter " + target.getShape()
                            + ", value " + value.getShape());
        }
        if (target.getDataType() != value.getDataType()) {
            throw new IllegalArgumentException(
                    "dtype mismatch for '" + name + "': parameter " + target.getDataType()
                            + ", value " + value.getDataType());
        }
        NDArray src = value.getDevice().equals(target.getDevice())
                ? value : value.toDevice(target.getDevice(), true);
        target.set(src.toByteBuffer());
        if (src != value) {
            src.close();
        }
    }

    /** The parameter's current gradient (a handle on the live gradient). */
    public static NDArray grad(Object net, String name) {
        return get(net, name).getGradient();
    }

    /**
     * Creates an RNNModel's parameters now, with the notebook's initializers (N(0, 0.01) for
     * WEIGHT, zeros for BIAS), through the same path as the lazy first training forward: a
     * training-mode forward on a zero input of inputShape (batch, steps), inside a gradient
     * collector as in training (MXNet refuses a training-mode recurrent forward outside one; the
     * recorded graph is dropped unused). No-op for scratch models (created initialized).
     */
    public static void initialize(Object net, NDManager manager, Shape inputShape) {
        if (net instanceof RNNModelScratch) {
            return;
        }
        RNNModel model = (RNNModel) net;
        model.setInitializer(new NormalInitializer(0.01f), Parameter.Type.WEIGHT);
        try (NDManager sub = manager.newSubManager();
                GradientCollector gc = manager.getEngine().newGradientCollector()) {
            NDArray x = sub.zeros(inputShape, DataType.INT32);
            NDList out = model.forward(new ParameterStore(manager, false), new NDList(x), true);
            out.attach(sub);
        }
    }
}
