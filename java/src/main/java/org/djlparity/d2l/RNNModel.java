package org.djlparity.d2l;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Concise RNN language model (docs/notebook.md, "Model"): one-hot, time-major recurrent layer, Linear(vocab).
 * Inputs: X (batch, steps) int, optionally followed by the state arrays. Outputs: logits
 * (steps*batch, vocab), time-major rows, followed by the new state.
 */
public class RNNModel extends AbstractBlock {

    private final RecurrentBlock rnnLayer;
    private final Linear dense;
    private final int vocabSize;

    public RNNModel(RecurrentBlock rnnLayer, int vocabSize) {
        this.rnnLayer = addChildBlock("rnn", rnnLayer);
        this.vocabSize = vocabSize;
        this.dense = addChildBlock("linear", Linear.builder().setUnits(vocabSize).build());
    }

    public RecurrentBlock getRnnLayer() {
        return rnnLayer;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        // explicit axes: same as transpose() for 2-D, and unambiguous for JPype callers
        NDArray X = inputs.get(0).transpose(1, 0).oneHot(vocabSize);
        NDList rnnIn = new NDList(X);
        for (int i = 1; i < inputs.size(); i++) {
            rnnIn.add(inputs.get(i));
        }
        NDList r = rnnLayer.forward(parameterStore, rnnIn, training);
        NDArray Y = r.get(0);
        long last = Y.getShape().get(Y.getShape().dimension() - 1);
        NDArray out =
                dense.forward(parameterStore, new NDList(Y.reshape(new Shape(-1, last))), training)
                        .head();
        NDList ret = new NDList(out);
        for (int i = 1; i < r.size(); i++) {
            ret.add(r.get(i));
        }
        return ret;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape x = inputs[0];
        Shape[] rnnOut = rnnLayer.getOutputShapes(new Shape[] {new Shape(x.get(1), x.get(0), vocabSize)});
        Shape[] out = new Shape[rnnOut.length];
        out[0] = new Shape(x.get(0) * x.get(1), vocabSize);
        System.arraycopy(rnnOut, 1, out, 1, rnnOut.length - 1);
        return out;
    }

    /** No-op like the original: each child initialises itself on its first training forward. */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {}
}
