package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * birnn-hand: a bidirectional RNN trained by hand-derived backpropagation through time, no
 * GradientCollector. Forward chain h_t = tanh(x_t U + h_{t-1} W [+ b_h]), backward chain g_t =
 * tanh(x_t U_r + g_{t+1} W_r [+ b_r]), output q_t = h_t V + g_t V_r [+ b_q]. Equation numbers
 * ("eq. N") refer to docs/birnn-hand.md; the Python twin is djl_bridge/birnn_hand.py, which
 * issues the same libtorch operations in the same order.
 *
 * <p>State: the forward chain carries its last h to the next batch; the first batch of an epoch
 * starts from the boundary h_0. The backward chain starts every batch from the boundary g_end
 * (g_{T+1}): it cannot see the next batch. Boundaries are the constant 0.5 or, with
 * learnBoundary, parameters starting at 0.5.
 */
public final class BiRnnHand extends RNNModelScratch {

    public static final float BOUNDARY = 0.5f;

    /** One training step's results; all arrays live in the input's manager. */
    public static final class Step {
        public final NDArray logits;
        public final NDList state;
        public final NDArray loss;

        Step(NDArray logits, NDList state, NDArray loss) {
            this.logits = logits;
            this.state = state;
            this.loss = loss;
        }
    }

    private final int vocabSize;
    private final int hidden;
    private final boolean bias;
    private final boolean learnBoundary;
    private final DataType dataType;
    private final NDManager manager;
    private final Map<String, NDArray> byName = new HashMap<>();
    private NDList gradients;

    private BiRnnHand(
            int vocabSize,
            int hidden,
            NDList params,
            List<String> names,
            boolean bias,
            boolean learnBoundary,
            DataType dataType,
            NDManager manager) {
        super(vocabSize, hidden, params, names, null, null); // forward and beginState overridden
        this.vocabSize = vocabSize;
        this.hidden = hidden;
        this.bias = bias;
        this.learnBoundary = learnBoundary;
        this.dataType = dataType;
        this.manager = manager;
        for (int i = 0; i < names.size(); i++) {
            byName.put(names.get(i), params.get(i));
        }
    }

    /**
     * Parameters drawn in this order: U, W, [b_h], U_r, W_r, [b_r], V, V_r, [b_q], [h_0, g_end].
     * Weights N(0, 0.01), biases zero, boundaries 0.5 (no draw). No gradient is attached.
     */
    public static BiRnnHand create(
            int vocabSize,
            int hidden,
            boolean bias,
            boolean learnBoundary,
            DataType dataType,
            Device device,
            NDManager m) {
        NDList p = new NDList();
        List<String> names = new ArrayList<>();
        for (String d : new String[] {"", "_r"}) {
            add(p, names, "U" + d, m.randomNormal(0f, 0.01f, new Shape(vocabSize, hidden), dataType, device));
            add(p, names, "W" + d, m.randomNormal(0f, 0.01f, new Shape(hidden, hidden), dataType, device));
            if (bias) {
                add(p, names, d.isEmpty() ? "b_h" : "b_r", m.zeros(new Shape(hidden), dataType, device));
            }
        }
        add(p, names, "V", m.randomNormal(0f, 0.01f, new Shape(hidden, vocabSize), dataType, device));
        add(p, names, "V_r", m.randomNormal(0f, 0.01f, new Shape(hidden, vocabSize), dataType, device));
        if (bias) {
            add(p, names, "b_q", m.zeros(new Shape(vocabSize), dataType, device));
        }
        if (learnBoundary) {
            add(p, names, "h_0", m.full(new Shape(hidden), BOUNDARY, dataType, device));
            add(p, names, "g_end", m.full(new Shape(hidden), BOUNDARY, dataType, device));
        }
        return new BiRnnHand(vocabSize, hidden, p, names, bias, learnBoundary, dataType, m);
    }

    private static void add(NDList p, List<String> names, String name, NDArray a) {
        p.add(a);
        names.add(name);
    }

    /** The gradients of the last {@link #handStep}, in parameter order (null before the first). */
    public NDList getGradients() {
        return gradients;
    }

    private NDArray p(String name) {
        return byName.get(name);
    }

    /** (batch, hidden) copies of a boundary in m: the constant, or 0 + the learned vector. */
    private NDArray boundary(String name, long batch, NDManager m) {
        Shape shape = new Shape(batch, hidden);
        if (!learnBoundary) {
            return m.full(shape, BOUNDARY, dataType, p("U").getDevice());
        }
        return m.zeros(shape, dataType, p("U").getDevice()).add(p(name));
    }

    @Override
    public NDList beginState(int batchSize, Device device) {
        return new NDList(boundary("h_0", batchSize, manager));
    }

    private NDArray oneHot(NDArray X) {
        return X.transpose(1, 0).oneHot(vocabSize).toType(dataType, false);
    }

    /** Both chains and the logits: hs, gs (time order), g_end, H2, G2, q. */
    private Object[] chains(NDArray x, NDArray hStart) {
        NDArray U = p("U"), W = p("W"), bh = p("b_h"), Ur = p("U_r"), Wr = p("W_r"), br = p("b_r");
        int T = (int) x.getShape().get(0);
        long B = x.getShape().get(1);
        List<NDArray> hs = new ArrayList<>();
        NDArray h = hStart;
        for (int t = 0; t < T; t++) { // eq. 1
            NDArray a = x.get(t).dot(U).add(h.dot(W));
            h = (bh == null ? a : a.add(bh)).tanh();
            hs.add(h);
        }
        NDArray gEnd = boundary("g_end", B, x.getManager());
        NDArray[] gs = new NDArray[T];
        NDArray g = gEnd;
        for (int t = T - 1; t >= 0; t--) { // eq. 2
            NDArray c = x.get(t).dot(Ur).add(g.dot(Wr));
            g = (br == null ? c : c.add(br)).tanh();
            gs[t] = g;
        }
        long N = T * B;
        Shape rows = new Shape(N, hidden);
        NDArray H2 = NDArrays.stack(new NDList(hs)).reshape(rows);
        NDArray G2 = NDArrays.stack(new NDList(gs)).reshape(rows);
        NDArray q = H2.dot(p("V")).add(G2.dot(p("V_r"))); // eq. 3
        if (bias) {
            q = q.add(p("b_q"));
        }
        return new Object[] {hs, Arrays.asList(gs), gEnd, H2, G2, q};
    }

    /** Logits (steps*batch, vocab), time-major rows, and the forward chain's last state. */
    @Override
    @SuppressWarnings("unchecked")
    public Pair<NDArray, NDList> forward(NDArray X, NDList state) {
        Object[] c = chains(oneHot(X), state.get(0));
        List<NDArray> hs = (List<NDArray>) c[0];
        return new Pair<>((NDArray) c[5], new NDList(hs.get(hs.size() - 1)));
    }

    /**
     * Forward pass, loss (lossFn's mean) and every gradient by hand; {@link #getGradients()}
     * then holds them (replaced, never accumulated). y: targets in the logits' row order;
     * fromBoundary: state is the boundary h_0, not a carried state. Intermediates are freed.
     */
    @SuppressWarnings("unchecked")
    public Step handStep(NDArray X, NDArray y, NDList state, boolean fromBoundary, Loss lossFn) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = oneHot(X);
            NDArray hStart = state.get(0);
            Object[] c = chains(x, hStart);
            List<NDArray> hs = (List<NDArray>) c[0];
            List<NDArray> gs = (List<NDArray>) c[1];
            NDArray q = (NDArray) c[5];
            NDArray loss = lossFn.evaluate(new NDList(y), new NDList(q)).mean();
            NDList grads = gradients(x, y, hStart, hs, gs, (NDArray) c[2], (NDArray) c[3], (NDArray) c[4], q,
                    fromBoundary);
            NDArray hLast = hs.get(hs.size() - 1);
            NDScope.unregister(q, hLast, loss);
            NDScope.unregister(grads);
            gradients = grads;
            return new Step(q, new NDList(hLast), loss);
        }
    }

    private NDList gradients(
            NDArray x,
            NDArray y,
            NDArray hStart,
            List<NDArray> hs,
            List<NDArray> gs,
            NDArray gEnd,
            NDArray H2,
            NDArray G2,
            NDArray q,
            boolean fromBoundary) {
        int T = (int) x.getShape().get(0);
        long B = x.getShape().get(1);
        int Vn = (int) x.getShape().get(2);
        int N = (int) (T * B);
        long Hn = hidden;
        NDArray W = p("W"), Wr = p("W_r");
        NDArray delta = q.softmax(1).sub(y.oneHot(Vn).toType(dataType, false)).div(N); // eq. 5
        NDArray delta3 = delta.reshape(new Shape(T, B, Vn)); // eq. 5: delta_t is block t
        Map<String, NDArray> g = new HashMap<>();
        g.put("V", H2.transpose(1, 0).dot(delta)); // eq. 6
        g.put("V_r", G2.transpose(1, 0).dot(delta)); // eq. 6
        if (bias) {
            g.put("b_q", delta.sum(new int[] {0})); // eq. 7
        }
        // forward chain, t = T .. 1
        NDArray[] alphas = new NDArray[T]; // eq. 9, filled below
        NDArray carry = null; // eq. 8: no alpha_{T+1}
        for (int t = T - 1; t >= 0; t--) {
            NDArray eps = delta3.get(t).dot(p("V").transpose(1, 0)); // eq. 8
            if (carry != null) {
                eps = eps.add(carry); // eq. 8
            }
            NDArray h = hs.get(t);
            alphas[t] = eps.mul(h.mul(h).neg().add(1f)); // eq. 9 (1f: a Java float)
            carry = alphas[t].dot(W.transpose(1, 0)); // eq. 8 (the next step's share), eq. 12
        }
        NDArray dhStart = carry; // eq. 12, before the sum over the batch
        Shape rows = new Shape(N, Hn);
        NDArray A = NDArrays.stack(new NDList(alphas)).reshape(rows); // eq. 10-11: alpha_t rows
        NDArray X2 = x.reshape(new Shape(N, Vn)); // eq. 10, 15: all x_t as rows
        NDList prev = new NDList(hStart); // eq. 11: h_{t-1}
        prev.addAll(hs.subList(0, T - 1));
        NDArray Hprev = NDArrays.stack(prev).reshape(rows);
        g.put("U", X2.transpose(1, 0).dot(A)); // eq. 10
        g.put("W", Hprev.transpose(1, 0).dot(A)); // eq. 11
        if (bias) {
            g.put("b_h", A.sum(new int[] {0})); // eq. 10
        }
        // backward chain, t = 1 .. T
        NDArray[] betas = new NDArray[T]; // eq. 14, filled below
        carry = null; // eq. 13: no beta_0
        for (int t = 0; t < T; t++) {
            NDArray zeta = delta3.get(t).dot(p("V_r").transpose(1, 0)); // eq. 13
            if (carry != null) {
                zeta = zeta.add(carry); // eq. 13
            }
            NDArray gt = gs.get(t);
            betas[t] = zeta.mul(gt.mul(gt).neg().add(1f)); // eq. 14
            carry = betas[t].dot(Wr.transpose(1, 0)); // eq. 13 (the next step's share), eq. 17
        }
        NDArray Bt = NDArrays.stack(new NDList(betas)).reshape(rows); // eq. 15-16: beta_t rows
        NDList next = new NDList(); // eq. 16: g_{t+1}
        next.addAll(gs.subList(1, T));
        next.add(gEnd);
        NDArray Gnext = NDArrays.stack(next).reshape(rows);
        g.put("U_r", X2.transpose(1, 0).dot(Bt)); // eq. 15
        g.put("W_r", Gnext.transpose(1, 0).dot(Bt)); // eq. 16
        if (bias) {
            g.put("b_r", Bt.sum(new int[] {0})); // eq. 15
        }
        if (learnBoundary) {
            NDArray dh0 = dhStart.sum(new int[] {0}); // eq. 12
            g.put("h_0", fromBoundary // eq. 12: a carried state is a constant
                    ? dh0 : x.getManager().zeros(dh0.getShape(), dataType, dh0.getDevice()));
            g.put("g_end", carry.sum(new int[] {0})); // eq. 17
        }
        NDList out = new NDList();
        for (String name : getParamNames()) {
            out.add(g.get(name));
        }
        return out;
    }
}
