package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The RNN, GRU and LSTM scratch models of the sibling notebooks. Weights N(0, 0.01) drawn in the
 * listed order, biases zero, all with gradients attached; states are zeros (batch, hidden).
 */
public final class ScratchModels {

    private ScratchModels() {}

    private static NDArray normal(NDManager m, Device d, long... shape) {
        return m.randomNormal(0f, 0.01f, new Shape(shape), DataType.FLOAT32, d);
    }

    private static NDArray zeros(NDManager m, Device d, long... shape) {
        return m.zeros(new Shape(shape), DataType.FLOAT32, d);
    }

    /** (W_x, W_h, b) for one gate, drawn in that order. */
    private static void gate(NDList p, NDManager m, Device d, int in, int h) {
        p.add(normal(m, d, in, h));
        p.add(normal(m, d, h, h));
        p.add(zeros(m, d, h));
    }

    private static void output(NDList p, NDManager m, Device d, int h, int out) {
        p.add(normal(m, d, h, out));
        p.add(zeros(m, d, out));
    }

    private static NDList attach(NDList params) {
        for (NDArray a : params) {
            a.setRequiresGradient(true);
        }
        return params;
    }

    private static RNNModelScratch.StateInit zeroStates(NDManager m, int count) {
        return (batch, hidden, device) -> {
            NDList s = new NDList();
            for (int i = 0; i < count; i++) {
                s.add(m.zeros(new Shape(batch, hidden), DataType.FLOAT32, device));
            }
            return s;
        };
    }

    private static NDArray rows(List<NDArray> outputs) {
        return outputs.size() > 1 ? NDArrays.concat(new NDList(outputs)) : outputs.get(0);
    }

    /** H = tanh(X W_xh + H W_hh + b_h); params W_xh, W_hh, b_h, W_hq, b_q. */
    public static RNNModelScratch rnn(int vocabSize, int hidden, Device device, NDManager m) {
        NDList p = new NDList();
        gate(p, m, device, vocabSize, hidden);
        output(p, m, device, hidden, vocabSize);
        RNNModelScratch.StepFunction fn =
                (X, state, w) -> {
                    NDArray H = state.get(0);
                    List<NDArray> outs = new ArrayList<>();
                    for (int t = 0; t < X.getShape().get(0); t++) {
                        NDArray x = X.get(t);
                        H = x.dot(w.get(0)).add(H.dot(w.get(1))).add(w.get(2)).tanh();
                        outs.add(H.dot(w.get(3)).add(w.get(4)));
                    }
                    return new Pair<>(rows(outs), new NDList(H));
                };
        return new RNNModelScratch(
                vocabSize, hidden, attach(p),
                Arrays.asList("W_xh", "W_hh", "b_h", "W_hq", "b_q"), zeroStates(m, 1), fn);
    }

    /**
     * GRU: Z, R gates, candidate H~, H = Z*H + (1-Z)*H~. As in the original notebook the bias is
     * added to the hidden term first, X W + (H W + b): float addition is not associative, and
     * from the second batch on (non-zero biases) the other grouping rounds differently.
     */
    public static RNNModelScratch gru(int vocabSize, int hidden, Device device, NDManager m) {
        NDList p = new NDList();
        gate(p, m, device, vocabSize, hidden); // z
        gate(p, m, device, vocabSize, hidden); // r
        gate(p, m, device, vocabSize, hidden); // h
        output(p, m, device, hidden, vocabSize);
        // The original writes Z.mul(-1): DJL turns the Java -1 into a 0-d int32 tensor over a
        // Java direct buffer and closes it after the op, while autograd keeps it for backward;
        // once the JVM's GC frees that buffer, backward reads freed memory (garbage gradients,
        // nondeterministically). The same operand, kept alive with the model, computes the same
        // bits safely (divergence djl-scalar-operand-freed in the parity registry).
        NDArray minusOne = m.create(-1);
        RNNModelScratch.StepFunction fn =
                (X, state, w) -> {
                    NDArray H = state.get(0);
                    List<NDArray> outs = new ArrayList<>();
                    for (int t = 0; t < X.getShape().get(0); t++) {
                        NDArray x = X.get(t);
                        NDArray Z = x.dot(w.get(0)).add(H.dot(w.get(1)).add(w.get(2))).getNDArrayInternal().sigmoid();
                        NDArray R = x.dot(w.get(3)).add(H.dot(w.get(4)).add(w.get(5))).getNDArrayInternal().sigmoid();
                        NDArray Ht = x.dot(w.get(6)).add(R.mul(H).dot(w.get(7)).add(w.get(8))).tanh();
                        H = Z.mul(H).add(Z.mul(minusOne).add(1).mul(Ht));
                        outs.add(H.dot(w.get(9)).add(w.get(10)));
                    }
                    return new Pair<>(rows(outs), new NDList(H));
                };
        return new RNNModelScratch(
                vocabSize, hidden, attach(p),
                Arrays.asList(
                        "W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h",
                        "W_hq", "b_q"),
                zeroStates(m, 1), fn);
    }

    /**
     * LSTM: I, F, O gates, candidate C~; C = F*C + I*C~; H = O*tanh(C). State (H, C). Gate sums
     * are grouped X W + (H W + b), as in the original notebook (see gru).
     */
    public static RNNModelScratch lstm(int vocabSize, int hidden, Device device, NDManager m) {
        NDList p = new NDList();
        gate(p, m, device, vocabSize, hidden); // i
        gate(p, m, device, vocabSize, hidden); // f
        gate(p, m, device, vocabSize, hidden); // o
        gate(p, m, device, vocabSize, hidden); // c
        output(p, m, device, hidden, vocabSize);
        RNNModelScratch.StepFunction fn =
                (X, state, w) -> {
                    NDArray H = state.get(0);
                    NDArray C = state.get(1);
                    List<NDArray> outs = new ArrayList<>();
                    for (int t = 0; t < X.getShape().get(0); t++) {
                        NDArray x = X.get(t);
                        NDArray I = x.dot(w.get(0)).add(H.dot(w.get(1)).add(w.get(2))).getNDArrayInternal().sigmoid();
                        NDArray F = x.dot(w.get(3)).add(H.dot(w.get(4)).add(w.get(5))).getNDArrayInternal().sigmoid();
                        NDArray O = x.dot(w.get(6)).add(H.dot(w.get(7)).add(w.get(8))).getNDArrayInternal().sigmoid();
                        NDArray Ct = x.dot(w.get(9)).add(H.dot(w.get(10)).add(w.get(11))).tanh();
                        C = F.mul(C).add(I.mul(Ct));
                        H = O.mul(C.tanh());
                        outs.add(H.dot(w.get(12)).add(w.get(13)));
                    }
                    return new Pair<>(rows(outs), new NDList(H, C));
                };
        return new RNNModelScratch(
                vocabSize, hidden, attach(p),
                Arrays.asList(
                        "W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o",
                        "W_xc", "W_hc", "b_c", "W_hq", "b_q"),
                zeroStates(m, 2), fn);
    }
}
