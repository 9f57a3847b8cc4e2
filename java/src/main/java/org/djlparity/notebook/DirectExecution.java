package org.djlparity.notebook;

import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.Method;
import java.util.Map;

/**
 * JShell's local execution, but on the calling thread.
 *
 * <p>{@link LocalExecutionControl} runs every snippet on a fresh thread. DJL's PyTorch engine
 * keeps libtorch's autograd switch per thread (off where the engine was loaded, on for a new
 * thread), and the notebook's objects must live where the bridge reads them, so snippets run on
 * the thread that calls {@code eval}, as the rest of the Java side does.
 */
public final class DirectExecution implements ExecutionControlProvider {

    public static final String NAME = "djlparity-direct";

    @Override
    public String name() {
        return NAME;
    }

    private Object lastValue;

    @Override
    public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
        return new OnCallerThread();
    }

    /** The value of the last snippet run (the object itself, not JShell's text of it); null for none. */
    Object lastValue() {
        return lastValue;
    }

    void forgetValue() {
        lastValue = null;
    }

    /** Local execution control whose {@code invoke} does not start a thread. */
    final class OnCallerThread extends LocalExecutionControl {
        @Override
        protected String invoke(Method doitMethod) throws Exception {
            Object value = doitMethod.invoke(null);
            lastValue = value;
            return valueString(value);
        }
    }
}
