package org.djlparity.notebook.standins;

import ai.djl.ndarray.NDArray;

/** Stand-in for the D2L plotting helper of the same name: returns a {@link Figure} description. */
public final class PlotUtils {

    private PlotUtils() {}

    public static Figure plot(double[][] x, double[][] y, String[] traceLabels, String xLabel, String yLabel) {
        return new Figure("line", traceLabels, xLabel, yLabel);
    }

    public static Figure plotLogScale(
            double[][] x, double[][] y, String[] traceLabels, String xLabel, String yLabel) {
        return new Figure("log-log line", traceLabels, xLabel, yLabel);
    }

    public static Figure showHeatmaps(
            NDArray matrices, String xLabel, String yLabel, String[] titles, int width, int height) {
        return new Figure("heatmaps " + matrices.getShape(), titles, xLabel, yLabel);
    }
}
