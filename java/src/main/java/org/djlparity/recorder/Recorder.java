package org.djlparity.recorder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Records a notebook's own training loops by observing DJL (the hooks of {@link RecorderAgent}):
 * the arrays made trainable, every backward (a step), the batches the loop fed, whether the state
 * was carried, epoch starts and the parameters around each update. {@code NotebookShell.eval}
 * marks each snippet as a unit; a loop is consecutive steps of one unit on one parameter set.
 * Everything happens on the notebook's thread; with {@link #on} false every hook returns at once.
 */
public final class Recorder {

    /** The one switch: the hooks do nothing while it is false. */
    public static volatile boolean on;

    /** An array made trainable, held weakly, with its name and shape when it was tracked. */
    static final class Tracked {
        final WeakReference<NDArray> ref;
        final String name;
        final long[] shape;

        Tracked(NDArray a) {
            ref = new WeakReference<>(a);
            name = a.getName();
            shape = a.getShape().getShape();
        }

        /** The array, or null once it was collected or closed. */
        NDArray get() {
            NDArray a = ref.get();
            return a == null || a.isReleased() ? null : a;
        }
    }

    /** What was seen since the previous step (or the unit's start), for the next step. */
    static final class Pending {
        boolean detached;
        boolean epochStart;
        int[] x;
        long[] xShape;
        int inputs = -1;
        int[] labels;
        NDArray logits;

        void resetCollector() {
            x = null;
            xShape = null;
            inputs = -1;
            labels = null;
            logits = null;
        }

        void reset() {
            resetCollector();
            detached = false;
            epochStart = false;
        }
    }

    static int fullSteps = 2;
    private static final List<Tracked> tracked = new ArrayList<>();
    static final List<Loop> loops = new ArrayList<>();
    private static final List<String> errors = new ArrayList<>();
    static final Pending pending = new Pending();
    private static boolean inUnit;
    private static boolean busy;
    static int unitCell;
    static String unitOrigin;
    static int unitLine;
    private static int unitFirstLoop;
    static Loop current;
    static List<Tracked> entryArrays;
    static float[][] entryGrads;
    private static int backwardDepth;
    private static int forwardDepth;
    private static int lossDepth;
    private static int dataDepth;
    private static Object serverParam;

    private Recorder() {}

    /** Installs the hooks (once per JVM), forgets earlier records, keeps {@code k} steps per loop in full. */
    public static synchronized void start(int k) {
        RecorderAgent.install();
        clear();
        fullSteps = k;
        on = true;
    }

    public static void stop() {
        on = false;
    }

    public static synchronized void clear() {
        tracked.clear();
        loops.clear();
        errors.clear();
        pending.reset();
        current = null;
        entryArrays = null;
        inUnit = false;
        backwardDepth = forwardDepth = lossDepth = dataDepth = 0;
    }

    public static List<Loop> loops() {
        return new ArrayList<>(loops);
    }

    /** What went wrong inside the recorder (never raised into the notebook). */
    public static List<String> errors() {
        return new ArrayList<>(errors);
    }

    /** The DJL classes the agent changed in this JVM. */
    public static List<String> instrumented() {
        synchronized (RecorderAgent.transformed) {
            return new ArrayList<>(RecorderAgent.transformed);
        }
    }

    /** Classes the agent could not change ("class: error"). */
    public static List<String> agentFailures() {
        synchronized (RecorderAgent.failed) {
            return new ArrayList<>(RecorderAgent.failed);
        }
    }

    private static boolean active() {
        return on && inUnit && !busy;
    }

    private static void error(Throwable t) {
        errors.add(t.toString());
    }

    // ---- units (NotebookShell.eval) ----

    public static void beginUnit(int cell, String origin, int line) {
        if (!on) {
            return;
        }
        unitCell = cell;
        unitOrigin = origin;
        unitLine = line;
        unitFirstLoop = loops.size();
        current = null;
        pending.reset();
        inUnit = true;
    }

    public static void endUnit() {
        if (!inUnit) {
            return;
        }
        busy = true;
        try {
            for (Loop loop : loops.subList(unitFirstLoop, loops.size())) {
                Steps.finishLoop(loop);
            }
        } catch (RuntimeException e) {
            error(e);
        } finally {
            busy = false;
            inUnit = false;
            current = null;
            entryArrays = null;
            pending.reset();
            backwardDepth = forwardDepth = lossDepth = dataDepth = 0;
        }
    }

    // ---- hooks ----

    public static void trainable(Object array) {
        if (!on || busy) {
            return;
        }
        for (Tracked t : tracked) {
            if (t.ref.get() == array) {
                return;
            }
        }
        tracked.add(new Tracked((NDArray) array));
    }

    public static void stopGradient() {
        if (active() && forwardDepth == 0 && lossDepth == 0 && backwardDepth == 0) {
            pending.detached = true;
        }
    }

    public static void oneHot(Object receiver) {
        if (!active() || pending.x != null) {
            return;
        }
        busy = true;
        try {
            NDArray r = (NDArray) receiver;
            long[] shape = r.getShape().getShape();
            int[] v = Reads.ints(r);
            if (shape.length == 2) { // X.transpose(): (numSteps, batch) -> (batch, numSteps)
                v = Reads.transpose(v, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
            }
            pending.x = v;
            pending.xShape = shape;
        } catch (RuntimeException e) {
            error(e);
        } finally {
            busy = false;
        }
    }

    public static void collectorOpened() {
        if (active()) {
            pending.resetCollector();
        }
    }

    public static boolean forwardEnter(Object inputs) {
        if (!active()) {
            return false;
        }
        if (forwardDepth++ == 0 && pending.x == null && !((NDList) inputs).isEmpty()) {
            busy = true;
            try {
                NDArray head = ((NDList) inputs).head();
                pending.x = Reads.ints(head);
                pending.xShape = head.getShape().getShape();
                pending.inputs = ((NDList) inputs).size();
            } catch (RuntimeException e) {
                error(e);
            } finally {
                busy = false;
            }
        }
        return true;
    }

    public static void forwardExit() {
        forwardDepth--;
    }

    public static boolean lossEnter(Object labels, Object predictions) {
        if (!active()) {
            return false;
        }
        if (lossDepth++ == 0 && pending.labels == null) {
            busy = true;
            try {
                pending.labels = Reads.ints(((NDList) labels).head());
                pending.logits = ((NDList) predictions).head();
            } catch (RuntimeException e) {
                error(e);
            } finally {
                busy = false;
            }
        }
        return true;
    }

    public static void lossExit() {
        lossDepth--;
    }

    public static boolean getDataEnter() {
        if (!active()) {
            return false;
        }
        if (dataDepth++ == 0) {
            pending.epochStart = true;
        }
        return true;
    }

    public static void getDataExit() {
        dataDepth--;
    }

    public static boolean backwardEnter() {
        if (!active()) {
            return false;
        }
        if (backwardDepth++ > 0) {
            return true;
        }
        busy = true;
        try {
            readEntry();
        } catch (RuntimeException e) {
            error(e);
            entryArrays = null;
        } finally {
            busy = false;
        }
        return true;
    }

    /** The live tracked arrays and their gradients before the backward (closed ones are dropped). */
    private static void readEntry() {
        List<Tracked> live = new ArrayList<>();
        for (Iterator<Tracked> it = tracked.iterator(); it.hasNext(); ) {
            Tracked t = it.next();
            if (t.get() == null) {
                it.remove();
            } else {
                live.add(t);
            }
        }
        float[][] grads = new float[live.size()][];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = Reads.gradient(live.get(i).get());
        }
        entryArrays = live;
        entryGrads = grads;
    }

    public static void backwardExit(Object target, Throwable thrown) {
        if (--backwardDepth > 0) {
            return;
        }
        busy = true;
        try {
            if (thrown == null && entryArrays != null && on) {
                Steps.finish((NDArray) target);
            }
        } catch (RuntimeException e) {
            error(e);
        } finally {
            busy = false;
            entryArrays = null;
            pending.reset();
        }
    }

    public static boolean serverUpdate(Object[] params) {
        if (!active()) {
            return false;
        }
        serverParam = params.length > 0 ? params[0] : null;
        return true;
    }

    public static void serverUpdateDone() {
        serverParam = null;
    }

    /** 1 + the parameter's position when the current loop's last step is kept in full, else 0. */
    public static int optimizerEnter(Object weight, Object grad) {
        Loop.Full step = lastFull();
        if (!active() || step == null) {
            return 0;
        }
        int i = current.indexOf(serverParam != null ? serverParam : weight);
        if (i < 0) {
            return 0;
        }
        busy = true;
        try {
            step.clipped[i] = Reads.floats((NDArray) grad);
            return i + 1;
        } catch (RuntimeException e) {
            error(e);
            return 0;
        } finally {
            busy = false;
        }
    }

    public static void optimizerExit(int slot, Object weight) {
        Loop.Full step = lastFull();
        if (step == null) {
            return;
        }
        busy = true;
        try {
            step.after[slot - 1] = Reads.floats((NDArray) weight);
        } catch (RuntimeException e) {
            error(e);
        } finally {
            busy = false;
        }
    }

    private static Loop.Full lastFull() {
        if (current == null) {
            return null;
        }
        int last = current.steps() - 1;
        return last >= 0 && last < current.full.size() ? current.full.get(last) : null;
    }
}
