package org.djlparity.recorder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One recorded training loop: consecutive steps (backwards) of one notebook snippet on one set of
 * parameters. Scalars and batches are kept for every step, arrays in full for the first steps only.
 * Public fields and accessors are what {@code djl_bridge/notebook/recorded.py} reads.
 */
public final class Loop {

    /** One of the first steps, in full; per-parameter arrays in the loop's order. */
    public static final class Full {
        public float[][] before;
        public float[][] grads;
        /** Filled by an optimizer's update, else at the next step's backward (or the unit's end). */
        public float[][] clipped;
        public float[][] after;
        public float[] logits;
        public long[] logitsShape;
        public float loss;
        public double gradNorm;
        boolean byOptimizer;
    }

    public final int cell;
    public final String origin;
    public final int line;
    /** The arrays' names (null where unnamed), their shapes, tracking order. */
    public final String[] names;
    public final long[][] shapes;
    public final float[][] initial;
    /** The values at the unit's end (null for an array closed by then). */
    public float[][] finals;
    public final List<Full> full = new ArrayList<>();
    final List<Recorder.Tracked> arrays;
    private final List<int[]> xs = new ArrayList<>();
    private final List<int[]> ys = new ArrayList<>();
    private final List<long[]> xShapes = new ArrayList<>();
    private boolean[] carried = new boolean[64];
    private boolean[] epochStarts = new boolean[64];
    private float[] losses = new float[64];
    private double[] norms = new double[64];
    private final List<float[]> sqs = new ArrayList<>();
    /** The parameters' gradients at the loop's first backward's entry (left by earlier loops, or zero). */
    public float[][] startGrads;
    private int steps;

    Loop(int cell, String origin, int line, List<Recorder.Tracked> arrays, float[][] initial) {
        this.cell = cell;
        this.origin = origin;
        this.line = line;
        this.arrays = arrays;
        this.initial = initial;
        names = new String[arrays.size()];
        shapes = new long[arrays.size()][];
        for (int i = 0; i < names.length; i++) {
            names[i] = arrays.get(i).name;
            shapes[i] = arrays.get(i).shape;
        }
    }

    /** The position of {@code array} (by identity) in this loop, or -1. */
    int indexOf(Object array) {
        for (int i = 0; i < arrays.size(); i++) {
            if (arrays.get(i).get() == array) {
                return i;
            }
        }
        return -1;
    }

    boolean sameArrays(List<Recorder.Tracked> other) {
        if (other.size() != arrays.size()) {
            return false;
        }
        for (int i = 0; i < other.size(); i++) {
            if (other.get(i) != arrays.get(i)) {
                return false;
            }
        }
        return true;
    }

    void add(int[] x, long[] xShape, int[] y, boolean carry, boolean epochStart, float loss, double norm, float[] sq) {
        if (steps == losses.length) {
            int n = steps * 2;
            carried = Arrays.copyOf(carried, n);
            epochStarts = Arrays.copyOf(epochStarts, n);
            losses = Arrays.copyOf(losses, n);
            norms = Arrays.copyOf(norms, n);
        }
        xs.add(x);
        ys.add(y);
        xShapes.add(xShape);
        carried[steps] = carry;
        epochStarts[steps] = epochStart;
        losses[steps] = loss;
        norms[steps] = norm;
        sqs.add(sq);
        steps++;
    }

    public int steps() {
        return steps;
    }

    /** Step {@code i}'s inputs as (batch, numSteps), row-major; null when none was seen. */
    public int[] x(int i) {
        return xs.get(i);
    }

    public long[] xShape(int i) {
        return xShapes.get(i);
    }

    /** Step {@code i}'s labels as (batch, numSteps), row-major; null when none was seen. */
    public int[] y(int i) {
        return ys.get(i);
    }

    public boolean[] carried() {
        return Arrays.copyOf(carried, steps);
    }

    /** Steps before which the loop asked a DJL Dataset for its data (an epoch began). */
    public boolean[] epochStarts() {
        return Arrays.copyOf(epochStarts, steps);
    }

    public float[] losses() {
        return Arrays.copyOf(losses, steps);
    }

    public double[] gradNorms() {
        return Arrays.copyOf(norms, steps);
    }

    /** Every step's per-parameter float32 sums of squared gradients (the terms of the book's norm). */
    public float[][] gradSq() {
        return sqs.toArray(new float[0][]);
    }
}
