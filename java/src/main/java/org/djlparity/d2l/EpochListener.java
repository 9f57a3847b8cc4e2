package org.djlparity.d2l;

/**
 * Replaces the notebook's Animator. {@link #onEpoch} is called after EVERY epoch (1-based epoch
 * number). The notebook's plot only receives every 10th epoch; {@link #isPlotPoint(int)} tells
 * which calls correspond to a point of that plot.
 */
@FunctionalInterface
public interface EpochListener {

    void onEpoch(int epoch, double perplexity, double tokensPerSec);

    /** True for the epochs the original Animator plots: {@code epoch % 10 == 0}. */
    static boolean isPlotPoint(int epoch) {
        return epoch % 10 == 0;
    }
}
