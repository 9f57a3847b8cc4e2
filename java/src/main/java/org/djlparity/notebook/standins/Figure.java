package org.djlparity.notebook.standins;

import java.util.Arrays;

/** What a plotting helper was asked to draw: its line labels and axis titles (no drawing). */
public class Figure {

    private final String title;
    private final String[] traces;
    private final String xLabel;
    private final String yLabel;

    public Figure(String title, String[] traces, String xLabel, String yLabel) {
        this.title = title;
        this.traces = traces == null ? new String[0] : traces.clone();
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    @Override
    public String toString() {
        return title + " " + Arrays.toString(traces) + " x=" + xLabel + " y=" + yLabel;
    }
}
