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
        guarded(() -> {
            for (Loop loop : loops.subList(unitFirstLoop, loops.size())) {
                Steps.finishLoop(loop);
            }
        });
        inUnit = false;
        current = null;
        entryArrays = null;
        pending.reset();
        backwardDepth = forwardDepth = lossDepth = dataDepth = 0;
    }

    // ---- hooks ----

    /** Runs a read of DJL's arrays with the hooks muted; a failure is kept, never raised into DJL. */
    private static void guarded(Runnable read) {
        busy = true;
        try {
            read.run();
        } catch (RuntimeException e) {
            error(e);
        } finally {
            busy = false;
        }
    }

    /** Kinds of counted calls (see {@link Hooks.Leave}). */
    static final int FORWARD = 1;
    static final int LOSS = 2;
    static final int DATA = 3;
    static final int SERVER = 4;

    /** A counted call of {@code kind} returned (or threw). */
    public static void leave(int kind) {
        if (kind == FORWARD) {
            forwardDepth--;
        } else if (kind == LOSS) {
            lossDepth--;
        } else if (kind == DATA) {
            dataDepth--;
        } else {
            serverParam = null;
        }
    }

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

    /** {@code stopGradient()} or {@code oneHot(...)} was called on {@code array}. */
    public static void arrayCall(String method, Object array) {
        if ("oneHot".equals(method)) {
            oneHot(array);
        } else if (active() && forwardDepth == 0 && lossDepth == 0 && backwardDepth == 0) {
            pending.detached = true; // outside the model and the loss: the loop detaches a carried state
        }
    }

    private static void oneHot(Object receiver) {
        if (!active() || pending.x != null) {
            return;
        }
        guarded(() -> {
            NDArray r = (NDArray) receiver;
            long[] shape = r.getShape().getShape();
            int[] v = Reads.ints(r);
            if (shape.length == 2) { // X.transpose(): (numSteps, batch) -> (batch, numSteps)
                v = Reads.transpose(v, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
            }
            pending.x = v;
            pending.xShape = shape;
        });
    }

    public static void collectorOpened() {
        if (active()) {
            pending.resetCollector();
        }
    }

    /** The outermost block forward's first input (and how many inputs: a state was passed). */
    public static int forwardEnter(Object inputs) {
        if (!active()) {
            return 0;
        }
        NDList list = (NDList) inputs;
        if (forwardDepth++ == 0 && pending.x == null && !list.isEmpty()) {
            guarded(() -> {
                pending.x = Reads.ints(list.head());
                pending.xShape = list.head().getShape().getShape();
                pending.inputs = list.size();
            });
        }
        return FORWARD;
    }

    /** The outermost loss's labels and predictions (the logits). */
    public static int lossEnter(Object labels, Object predictions) {
        if (!active()) {
            return 0;
        }
        if (lossDepth++ == 0 && pending.labels == null) {
            guarded(() -> {
                pending.labels = Reads.ints(((NDList) labels).head());
                pending.logits = ((NDList) predictions).head();
            });
        }
        return LOSS;
    }

    public static int getDataEnter() {
        if (!active()) {
            return 0;
        }
        if (dataDepth++ == 0) {
            pending.epochStart = true;
        }
        return DATA;
    }

    public static boolean backwardEnter() {
        if (!active()) {
            return false;
        }
        if (backwardDepth++ == 0) {
            entryArrays = null;
            guarded(Recorder::readEntry);
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
        entryGrads = grads;
        entryArrays = live;
    }

    public static void backwardExit(Object target, Throwable thrown) {
        if (--backwardDepth > 0) {
            return;
        }
        if (thrown == null && entryArrays != null && on) {
            guarded(() -> Steps.finish((NDArray) target));
        }
        entryArrays = null;
        pending.reset();
    }

    /** Which parameter the server updates (the optimizer may see a copy of it: MXNet's KVStore). */
    public static int serverUpdate(Object[] params) {
        if (!active()) {
            return 0;
        }
        serverParam = params.length > 0 ? params[0] : null;
        return SERVER;
    }

    /** 1 + the parameter's position when the current loop's last step is kept in full, else 0. */
    public static int optimizerEnter(Object weight, Object grad) {
        Loop.Full step = lastFull();
        int i = !active() || step == null ? -1 : current.indexOf(serverParam != null ? serverParam : weight);
        if (i < 0) {
            return 0;
        }
        guarded(() -> step.clipped[i] = Reads.floats((NDArray) grad));
        return i + 1;
    }

    public static void optimizerExit(int slot, Object weight) {
        Loop.Full step = lastFull();
        if (step != null) {
            guarded(() -> step.after[slot - 1] = Reads.floats((NDArray) weight));
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
