package org.djlparity.notebook.standins;

/**
 * Stand-in for the D2L helper of the same name, with its API (a live Tablesaw line plot shown
 * through the notebook kernel's display): the points are recorded in {@link Recording} and
 * djl-parity draws the curve when the run ends.
 */
public class Animator {

    private String id = "";

    public Animator() {}

    /** Adds one point of the series {@code metric}. */
    public void add(float epoch, float value, String metric) {
        Recording.point(metric, epoch, value);
    }

    /** Adds the three classification metrics of an epoch and shows the plot. */
    public void add(float epoch, float accuracy, float trainAcc, float trainLoss) {
        add(epoch, trainLoss, "train loss");
        add(epoch, trainAcc, "train accuracy");
        add(epoch, accuracy, "test accuracy");
        show();
    }

    /** The notebook redraws here; the points are already recorded. */
    public void show() {
        if (id.isEmpty()) {
            id = Recording.display(this);
        }
    }

    public void update() {
        show();
    }

    @Override
    public String toString() {
        return "Animator";
    }
}
