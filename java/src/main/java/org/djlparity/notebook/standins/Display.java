package org.djlparity.notebook.standins;

import io.github.spencerpark.ijava.IJava;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

/**
 * The notebook kernel's display functions, statically imported into the shell as the IJava
 * kernel imports its own: each shown object is rendered by the renderer registered for its class
 * (as the kernel does) and recorded in {@link Recording}; {@code display} returns a display id.
 */
public final class Display {

    private Display() {}

    public static String display(Object o) {
        return display(o, new String[0]);
    }

    public static String display(Object o, String... mimeTypes) {
        IJava.getKernelInstance().getRenderer().render(o, mimeTypes);
        return Recording.display(o);
    }

    public static void updateDisplay(String id, Object o) {
        updateDisplay(id, o, new String[0]);
    }

    public static void updateDisplay(String id, Object o, String... mimeTypes) {
        IJava.getKernelInstance().getRenderer().render(o, mimeTypes);
        Recording.update(id, o);
    }

    /** The rendered object, shown when it is a cell's value (see {@link Recording#cellValue}). */
    public static DisplayData render(Object o, String... mimeTypes) {
        return IJava.getKernelInstance().getRenderer().render(o, mimeTypes);
    }
}
