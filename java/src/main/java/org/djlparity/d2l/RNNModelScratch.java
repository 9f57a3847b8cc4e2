package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.util.Pair;

import java.util.Collections;
import java.util.List;

/** Scratch RNN model (docs/notebook.md, "Scratch models"): one-hot input, user step function. */
public class RNNModelScratch {

    /** Creates the zero state: (batchSize, numHiddens, device). */
    @FunctionalInterface
    public interface StateInit {
        NDList apply(int batchSize, int numHiddens, Device device);
    }

    /** Runs all time steps: (X (steps, batch, vocab), state, params) to (Y, newState). */
    @FunctionalInterface
    public interface StepFunction {
        Pair<NDArray, NDList> apply(NDArray X, NDList state, NDList params);
    }

    private final int vocabSize;
    private final int numHiddens;
    private final NDList params;
    private final List<String> paramNames;
    private final StateInit initState;
    private final StepFunction forwardFn;

    public RNNModelScratch(
            int vocabSize,
            int numHiddens,
            NDList params,
            List<String> paramNames,
            StateInit initState,
            StepFunction forwardFn) {
        this.vocabSize = vocabSize;
        this.numHiddens = numHiddens;
        this.params = params;
        this.paramNames = Collections.unmodifiableList(paramNames);
        this.initState = initState;
        this.forwardFn = forwardFn;
    }

    public Pair<NDArray, NDList> forward(NDArray X, NDList state) {
        // one-hot in the parameters' type (float32 in training; float64 in the gradient checks)
        NDArray x = X.transpose(1, 0).oneHot(vocabSize).toType(params.get(0).getDataType(), false);
        return forwardFn.apply(x, state, params);
    }

    public NDList beginState(int batchSize, Device device) {
        return initState.apply(batchSize, numHiddens, device);
    }

    public NDList getParams() {
        return params;
    }

    public List<String> getParamNames() {
        return paramNames;
    }
}
