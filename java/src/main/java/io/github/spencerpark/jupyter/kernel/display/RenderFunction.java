package io.github.spencerpark.jupyter.kernel.display;

/** What a notebook registers to render objects of one class (stand-in for the kernel's interface). */
@FunctionalInterface
public interface RenderFunction<T> {
    void render(T data, RenderContext context);
}
