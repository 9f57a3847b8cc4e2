package org.djlparity.d2l;

import java.util.Arrays;

/** Sums over n float32 slots (the notebooks' accumulator is float, not double). */
public class Accumulator {

    private final float[] data;

    public Accumulator(int n) {
        data = new float[n];
    }

    public void add(float[] args) {
        for (int i = 0; i < data.length; i++) {
            data[i] += args[i];
        }
    }

    public void reset() {
        Arrays.fill(data, 0f);
    }

    public float get(int i) {
        return data[i];
    }
}
