package org.djlparity.recorder;

import net.bytebuddy.asm.Advice;

/**
 * The advice {@link RecorderAgent} inlines into DJL's methods. Each piece only tests
 * {@link Recorder#on} and hands the call's objects to {@link Recorder}; its own failures are
 * suppressed, so a hook can never change what DJL does. An enter advice that answers a kind
 * (not 0) is paired with {@link Leave}, so the recorder knows the nesting of DJL's calls.
 */
final class Hooks {

    private Hooks() {}

    /** The exit of a counted call: the recorder leaves the call of that kind. */
    static final class Leave {
        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter int kind) {
            if (kind != 0) {
                Recorder.leave(kind);
            }
        }
    }

    /** {@code NDArray.setRequiresGradient(boolean)} on every NDArray implementation. */
    static final class Trainable {
        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.This Object array, @Advice.Argument(0) boolean requiresGrad) {
            if (Recorder.on && requiresGrad) {
                Recorder.trainable(array);
            }
        }
    }

    /**
     * {@code NDArray.stopGradient()} (a carried state detached between steps) and every
     * {@code NDArray.oneHot(...)} overload (its receiver is a scratch model's input).
     */
    static final class ArrayCall {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.This Object array, @Advice.Origin("#m") String method) {
            if (Recorder.on) {
                Recorder.arrayCall(method, array);
            }
        }
    }

    /** A GradientCollector's constructor: a training step's recording begins. */
    static final class CollectorOpened {
        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit() {
            if (Recorder.on) {
                Recorder.collectorOpened();
            }
        }
    }

    /** {@code GradientCollector.backward(NDArray)}: one step. */
    static final class Backward {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static boolean enter() {
            return Recorder.on && Recorder.backwardEnter();
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter boolean counted, @Advice.Argument(0) Object target,
                         @Advice.Thrown Throwable thrown) {
            if (counted) {
                Recorder.backwardExit(target, thrown);
            }
        }
    }

    /** {@code Block.forward(ParameterStore, NDList, boolean, PairList)}: a block model's input. */
    static final class Forward {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.Argument(1) Object inputs) {
            return Recorder.on ? Recorder.forwardEnter(inputs) : 0;
        }
    }

    /** {@code Loss.evaluate(NDList labels, NDList predictions)}: the labels and logits. */
    static final class Evaluate {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.Argument(0) Object labels, @Advice.Argument(1) Object predictions) {
            return Recorder.on ? Recorder.lossEnter(labels, predictions) : 0;
        }
    }

    /** {@code Dataset.getData(NDManager)}: an epoch begins. */
    static final class GetData {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter() {
            return Recorder.on ? Recorder.getDataEnter() : 0;
        }
    }

    /** {@code ParameterServer.update(String, NDArray[] grads, NDArray[] params)}: which parameter. */
    static final class ServerUpdate {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.Argument(2) Object[] params) {
            return Recorder.on ? Recorder.serverUpdate(params) : 0;
        }
    }

    /** {@code Optimizer.update(String, NDArray weight, NDArray grad)}: clipped gradient in, weight out. */
    static final class OptimizerUpdate {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static int enter(@Advice.Argument(1) Object weight, @Advice.Argument(2) Object grad) {
            return Recorder.on ? Recorder.optimizerEnter(weight, grad) : 0;
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.Enter int slot, @Advice.Argument(1) Object weight) {
            if (slot > 0) {
                Recorder.optimizerExit(slot, weight);
            }
        }
    }
}
