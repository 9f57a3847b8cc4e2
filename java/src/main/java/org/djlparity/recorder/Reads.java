package org.djlparity.recorder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Reads NDArrays into Java arrays: copies, so nothing keeps the notebook's arrays alive, and reads
 * only, so nothing the notebook computes changes. Gradient handles DJL hands out are closed.
 */
final class Reads {

    private Reads() {}

    /** The values as float32 (another type is converted in a copy, closed at once). */
    static float[] floats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray copy = a.toType(DataType.FLOAT32, true)) {
            return copy.toFloatArray();
        }
    }

    /** The values as int32 (token indices, whatever their type). */
    static int[] ints(NDArray a) {
        if (a.getDataType() == DataType.INT32) {
            return a.toIntArray();
        }
        try (NDArray copy = a.toType(DataType.INT32, true)) {
            return copy.toIntArray();
        }
    }

    /** The array's gradient, or null when it has none. */
    static float[] gradient(NDArray a) {
        if (!a.hasGradient()) {
            return null;
        }
        NDArray g = a.getGradient();
        try {
            return floats(g);
        } finally {
            g.close();
        }
    }

    /** A scalar's float value (NaN when the target is not one value). */
    static float scalar(NDArray a) {
        if (a.size() != 1) {
            return Float.NaN;
        }
        return a.getDataType() == DataType.FLOAT32 ? a.getFloat() : a.toArray()[0].floatValue();
    }

    /** Row-major transpose of a (rows, cols) int array. */
    static int[] transpose(int[] v, int rows, int cols) {
        int[] out = new int[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = v[r * cols + c];
            }
        }
        return out;
    }
}
