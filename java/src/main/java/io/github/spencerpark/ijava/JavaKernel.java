package io.github.spencerpark.ijava;

import io.github.spencerpark.jupyter.kernel.display.Renderer;

/** The kernel instance of djl-parity's IJava stand-in: only its display renderer. */
public final class JavaKernel {

    private final Renderer renderer = new Renderer();

    JavaKernel() {}

    public Renderer getRenderer() {
        return renderer;
    }
}
