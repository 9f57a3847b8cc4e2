package org.djlparity.d2l;

import java.util.ArrayList;
import java.util.List;

/** Wall-clock stopwatch; {@link #stop()} returns the seconds since the last {@link #start()}. */
public class StopWatch {

    private long startNanos;
    private final List<Double> times = new ArrayList<>();

    public StopWatch() {
        start();
    }

    public void start() {
        startNanos = System.nanoTime();
    }

    public double stop() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        times.add(s);
        return s;
    }

    public double sum() {
        double s = 0;
        for (double t : times) {
            s += t;
        }
        return s;
    }
}
