package org.djlparity.notebook.standins;

/**
 * Stand-ins for the notebook kernel's display functions, statically imported into the shell:
 * each call is recorded in {@link Recording} and returns a display id as the kernel's does.
 */
public final class Display {

    private Display() {}

    public static String display(Object o) {
        return Recording.display(o);
    }

    public static String display(Object o, String... mimeTypes) {
        return Recording.display(o);
    }

    public static void updateDisplay(String id, Object o) {
        Recording.display(o);
    }

    public static void updateDisplay(String id, Object o, String... mimeTypes) {
        Recording.display(o);
    }

    public static Object render(Object o, String... mimeTypes) {
        Recording.display(o);
        return o;
    }
}
