package org.djlparity.notebook.standins;

import org.djlparity.notebook.NotebookShell;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A Tablesaw figure ({@code tech.tablesaw.plotly.components.Figure}) as plain data, taken when it
 * is shown. Tablesaw is on the notebook shell's classpath only (the notebook loads it), so its
 * objects are read by their fields' names: the layout's title and axis titles, and for each trace
 * its kind, name, mode, x and y values and histogram bins.
 */
public final class FigureData {

    static final String FIGURE_CLASS = "tech.tablesaw.plotly.components.Figure";

    /** One trace: kind ("scatter", "histogram", "bar", ...), name, mode, values, bins (0: none given). */
    public static final class TraceData {
        public final String kind;
        public final String name;
        public final String mode;
        /** Numeric x values, or null when x holds other values (then {@link #xText}). */
        public final double[] x;
        public final String[] xText;
        /** Numeric y values, or null when the trace has none. */
        public final double[] y;
        public final int bins;

        TraceData(String kind, String name, String mode, Object x, Object y, int bins) {
            this.kind = kind;
            this.name = name;
            this.mode = mode;
            this.x = numbers(x);
            this.xText = this.x == null && x != null ? texts(x) : null;
            this.y = numbers(y);
            this.bins = bins;
        }
    }

    public final String title;
    public final String xTitle;
    public final String yTitle;
    public final List<TraceData> traces;

    private FigureData(String title, String xTitle, String yTitle, List<TraceData> traces) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.traces = Collections.unmodifiableList(traces);
    }

    /** True for a Tablesaw figure (of any subclass). */
    static boolean isFigure(Object o) {
        for (Class<?> c = o == null ? null : o.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals(FIGURE_CLASS)) {
                return true;
            }
        }
        return false;
    }

    /** The figure's data; {@code o} must be a Tablesaw figure ({@link #isFigure}). */
    static FigureData of(Object o) {
        Object layout = read(o, "layout");
        List<TraceData> traces = new ArrayList<>();
        Object data = read(o, "data");
        for (Object t : data instanceof Object[] ? (Object[]) data : new Object[0]) {
            Object mode = read(t, "mode");
            Object bins = read(t, "nBinsX");
            traces.add(new TraceData(text(read(t, "type")), text(read(t, "name")),
                    mode == null ? "" : mode.toString(), read(t, "x"), read(t, "y"),
                    bins instanceof Integer ? (Integer) bins : 0));
        }
        return new FigureData(text(read(layout, "title")), text(read(read(layout, "xAxis"), "title")),
                text(read(read(layout, "yAxis"), "title")), traces);
    }

    private static Object read(Object target, String field) {
        if (target == null) {
            return null;
        }
        try {
            return NotebookShell.field(target, field);
        } catch (IllegalAccessException | RuntimeException e) {
            return null;
        }
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }

    private static double[] numbers(Object values) {
        if (values instanceof double[]) {
            return ((double[]) values).clone();
        }
        if (!(values instanceof Object[])) {
            return null;
        }
        Object[] items = (Object[]) values;
        double[] out = new double[items.length];
        for (int i = 0; i < items.length; i++) {
            if (items[i] instanceof Number) {
                out[i] = ((Number) items[i]).doubleValue();
            } else if (items[i] == null) {
                out[i] = Double.NaN;
            } else {
                return null;
            }
        }
        return out;
    }

    private static String[] texts(Object values) {
        if (!(values instanceof Object[])) {
            return null;
        }
        Object[] items = (Object[]) values;
        String[] out = new String[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = String.valueOf(items[i]);
        }
        return out;
    }
}
