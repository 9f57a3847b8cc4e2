package org.djlparity.bridge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * What one training batch saw and did. All arrays are detached copies owned by {@link
 * #manager}; close the record (or the manager) to free them.
 */
public class StepRecord implements AutoCloseable {
    public NDManager manager;
    public NDArray logits;
    public NDList stateOut;
    public float loss;
    public List<String> names;
    public NDList gradsBefore;
    public double gradNorm;
    public NDList gradsAfter;
    public NDList paramsAfter;

    @Override
    public void close() {
        manager.close();
    }
}
