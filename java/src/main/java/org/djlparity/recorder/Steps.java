package org.djlparity.recorder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A backward's exit: which loop it belongs to, and what the step records (see {@link Recorder}). */
final class Steps {

    private Steps() {}

    /** Records the step whose backward just returned with {@code target} (the loss). */
    static void finish(NDArray target) {
        List<Recorder.Tracked> arrays = Recorder.entryArrays;
        List<Recorder.Tracked> changed = new ArrayList<>();
        List<float[]> grads = new ArrayList<>();
        List<float[]> entry = new ArrayList<>();
        List<Float> sq = new ArrayList<>();
        double norm = 0;
        try (NDManager scratch = target.getManager().newSubManager()) { // every handle read here closes with it
            for (int i = 0; i < arrays.size(); i++) {
                NDArray a = arrays.get(i).get();
                NDArray g = a == null || !a.hasGradient() ? null : a.getGradient();
                if (g == null) {
                    continue;
                }
                g.attach(scratch);
                float[] v = Reads.floats(g);
                if (!Arrays.equals(v, Recorder.entryGrads[i])) { // in this backward's graph
                    changed.add(arrays.get(i));
                    grads.add(v);
                    entry.add(Recorder.entryGrads[i]);
                    sq.add(g.pow(2).sum().getFloat());
                    norm += sq.get(sq.size() - 1); // the book's clipping norm: float32 sums into a double
                }
            }
        }
        if (!changed.isEmpty()) {
            float[] sums = new float[sq.size()];
            for (int i = 0; i < sums.length; i++) {
                sums[i] = sq.get(i);
            }
            record(target, changed, grads, entry, Math.sqrt(norm), sums);
        }
    }

    private static void record(NDArray target, List<Recorder.Tracked> changed, List<float[]> grads,
                               List<float[]> entry, double norm, float[] sq) {
        Loop loop = Recorder.current;
        boolean fresh = loop == null || !loop.sameArrays(changed);
        int step = fresh ? 0 : loop.steps();
        int k = Recorder.fullSteps;
        // a backward leaves the values as they were at its entry: read them now, when needed
        float[][] values = fresh || step <= k ? values(changed) : null;
        if (fresh) {
            loop = newLoop(changed, values);
            loop.startGrads = entry.toArray(new float[0][]);
        } else if (step - 1 < loop.full.size()) { // the previous step's update, as this entry shows it
            fillUpdate(loop.full.get(step - 1), values, entry.toArray(new float[0][]));
        }
        float loss = Reads.scalar(target);
        add(loop, loss, norm, sq);
        if (step < k) {
            loop.full.add(full(values, grads.toArray(new float[0][]), loss, norm));
        }
    }

    private static float[][] values(List<Recorder.Tracked> arrays) {
        float[][] out = new float[arrays.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Reads.floats(arrays.get(i).get());
        }
        return out;
    }

    private static Loop newLoop(List<Recorder.Tracked> arrays, float[][] initial) {
        Loop loop = new Loop(Recorder.unitCell, Recorder.unitOrigin, Recorder.unitLine, arrays, initial);
        Recorder.loops.add(loop);
        Recorder.current = loop;
        return loop;
    }

    /** The step's batch as (batch, numSteps) inputs and labels, its state, epoch start and scalars. */
    private static void add(Loop loop, float loss, double norm, float[] sq) {
        Recorder.Pending p = Recorder.pending;
        int[] y = p.labels;
        if (p.x != null && p.xShape.length == 2 && y != null && y.length == p.x.length) {
            y = Reads.transpose(y, (int) p.xShape[1], (int) p.xShape[0]); // time-major labels
        }
        boolean carried = p.inputs >= 0 ? p.inputs > 1 : p.detached;
        loop.add(p.x, p.xShape, y, carried, p.epochStart, loss, norm, sq);
    }

    private static Loop.Full full(float[][] before, float[][] grads, float loss, double norm) {
        Loop.Full f = new Loop.Full();
        f.before = before;
        f.grads = grads;
        f.loss = loss;
        f.gradNorm = norm;
        f.clipped = new float[before.length][];
        f.after = new float[before.length][];
        NDArray logits = Recorder.pending.logits;
        if (logits != null && !logits.isReleased()) {
            f.logits = Reads.floats(logits);
            f.logitsShape = logits.getShape().getShape();
        }
        return f;
    }

    /** The loop's final values, and the last full step's update where no optimizer reported it. */
    static void finishLoop(Loop loop) {
        int n = loop.arrays.size();
        loop.finals = new float[n][];
        float[][] grads = new float[n][];
        for (int i = 0; i < n; i++) {
            NDArray a = loop.arrays.get(i).get();
            loop.finals[i] = a == null ? null : Reads.floats(a);
            grads[i] = a == null ? null : Reads.gradient(a);
        }
        int last = loop.steps() - 1;
        if (last >= 0 && last < loop.full.size()) {
            fillUpdate(loop.full.get(last), loop.finals, grads);
        }
    }

    static void fillUpdate(Loop.Full step, float[][] values, float[][] grads) {
        for (int i = 0; i < values.length; i++) {
            if (step.after[i] == null) {
                step.after[i] = values[i];
            }
            if (step.clipped[i] == null) {
                step.clipped[i] = grads[i];
            }
        }
    }
}
