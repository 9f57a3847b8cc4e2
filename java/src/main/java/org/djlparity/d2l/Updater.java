package org.djlparity.d2l;

import ai.djl.ndarray.NDManager;

/** The parameter update applied after each batch: (batchSize, subManager). */
@FunctionalInterface
public interface Updater {
    void apply(int batchSize, NDManager subManager);
}
