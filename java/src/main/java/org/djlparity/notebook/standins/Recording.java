package org.djlparity.notebook.standins;

import org.djlparity.notebook.NotebookShell;

import java.util.ArrayList;
import java.util.List;

/**
 * What the notebook showed, in order: every figure passed to {@code display}, {@code
 * updateDisplay} or {@code render} and every cell whose value is a figure (the figure's data as
 * it was then, with its cell and display id; {@code updateDisplay(id, ...)} replaces that
 * display's figure), and a one-line description of every displayed object.
 */
public final class Recording {

    /** One animator point: the series (metric) name, the x value (epoch) and the y value. */
    public static final class Point {
        public final String metric;
        public final float epoch;
        public final float value;

        Point(String metric, float epoch, float value) {
            this.metric = metric;
            this.epoch = epoch;
            this.value = value;
        }
    }

    /** A figure as shown: its display id, its cell, how it was shown ("display" or "value"). */
    public static final class Shown {
        public final String id;
        public final int cell;
        public final String how;
        public final FigureData figure;

        Shown(String id, int cell, String how, FigureData figure) {
            this.id = id;
            this.cell = cell;
            this.how = how;
            this.figure = figure;
        }
    }

    private static final List<Shown> SHOWN = new ArrayList<>();
    private static final List<String> DISPLAYS = new ArrayList<>();

    private Recording() {}

    /** Records a display of {@code o}; returns its display id. */
    static synchronized String display(Object o) {
        String id = "display-" + (DISPLAYS.size() + 1);
        describe(o);
        Object shown = unwrap(o);
        if (FigureData.isFigure(shown)) {
            SHOWN.add(new Shown(id, NotebookShell.currentCell(), "display", FigureData.of(shown)));
        }
        return id;
    }

    /** Replaces the figure of display {@code id} (a new display when no such id was given out). */
    static synchronized void update(String id, Object o) {
        describe(o);
        Object shown = unwrap(o);
        if (!FigureData.isFigure(shown)) {
            return;
        }
        for (int i = 0; i < SHOWN.size(); i++) {
            Shown s = SHOWN.get(i);
            if (s.id.equals(id)) {
                SHOWN.set(i, new Shown(id, s.cell, s.how, FigureData.of(shown)));
                return;
            }
        }
        SHOWN.add(new Shown(id, NotebookShell.currentCell(), "display", FigureData.of(shown)));
    }

    /** Records the value of cell {@code cell} when it is a figure (or rendered figure); false otherwise. */
    public static synchronized boolean cellValue(int cell, Object value) {
        Object shown = unwrap(value);
        if (!FigureData.isFigure(shown)) {
            return false;
        }
        describe(value);
        SHOWN.add(new Shown("cell-" + cell, cell, "value", FigureData.of(shown)));
        return true;
    }

    private static void describe(Object o) {
        DISPLAYS.add(o == null ? "null" : o.getClass().getSimpleName() + ": " + o);
    }

    private static Object unwrap(Object o) {
        return o instanceof io.github.spencerpark.jupyter.kernel.display.DisplayData
                ? ((io.github.spencerpark.jupyter.kernel.display.DisplayData) o).source()
                : o;
    }

    /** Every figure shown, in the order first shown, each as last shown. */
    public static synchronized List<Shown> figures() {
        return new ArrayList<>(SHOWN);
    }

    /**
     * The animator's points: the numeric (x, y) values of every displayed figure's scatter (line)
     * traces, each trace a series named by the trace. Within a figure the traces' points are interleaved
     * by position, which is the order an animator adds one point per series per epoch.
     */
    public static synchronized List<Point> points() {
        List<Point> out = new ArrayList<>();
        for (Shown s : SHOWN) {
            if (!s.how.equals("display")) {
                continue;
            }
            int longest = 0;
            for (FigureData.TraceData t : s.figure.traces) {
                longest = Math.max(longest, length(t));
            }
            for (int i = 0; i < longest; i++) {
                for (FigureData.TraceData t : s.figure.traces) {
                    if (i < length(t)) {
                        out.add(new Point(t.name, (float) t.x[i], (float) t.y[i]));
                    }
                }
            }
        }
        return out;
    }

    private static int length(FigureData.TraceData t) {
        return t.kind.equals("scatter") && t.x != null && t.y != null ? Math.min(t.x.length, t.y.length) : 0;
    }

    public static synchronized List<String> displays() {
        return new ArrayList<>(DISPLAYS);
    }

    /** Forgets everything recorded (a new notebook run). */
    public static synchronized void clear() {
        io.github.spencerpark.ijava.IJava.getKernelInstance().getRenderer().clear();
        SHOWN.clear();
        DISPLAYS.clear();
    }
}
