package io.github.spencerpark.ijava;

/**
 * djl-parity's stand-in for the IJava kernel's entry point, with the API names the D2L notebooks
 * use ({@code IJava.getKernelInstance().getRenderer()}); the notebook runs in djl-parity's shell,
 * where this one kernel instance holds the display renderer.
 */
public final class IJava {

    private static final JavaKernel KERNEL = new JavaKernel();

    private IJava() {}

    public static JavaKernel getKernelInstance() {
        return KERNEL;
    }
}
