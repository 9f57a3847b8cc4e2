package org.djlparity.notebook.standins;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a notebook's plotting and display calls produced, recorded instead of drawn: the
 * animator's points in call order and a one-line description of every displayed object.
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

    private static final List<Point> POINTS = Collections.synchronizedList(new ArrayList<>());
    private static final List<String> DISPLAYS = Collections.synchronizedList(new ArrayList<>());

    private Recording() {}

    static void point(String metric, float epoch, float value) {
        POINTS.add(new Point(metric, epoch, value));
    }

    static String display(Object o) {
        DISPLAYS.add(o == null ? "null" : o.getClass().getSimpleName() + ": " + o);
        return "display-" + DISPLAYS.size();
    }

    public static List<Point> points() {
        return new ArrayList<>(POINTS);
    }

    public static List<String> displays() {
        return new ArrayList<>(DISPLAYS);
    }

    /** Forgets everything recorded (a new notebook run). */
    public static void clear() {
        POINTS.clear();
        DISPLAYS.clear();
    }
}
