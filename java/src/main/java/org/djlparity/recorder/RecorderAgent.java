package org.djlparity.recorder;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import net.bytebuddy.agent.ByteBuddyAgent;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Installs the recorder's hooks into DJL's classes of this JVM (self-attach, so the JVM needs
 * {@code -Djdk.attach.allowAttachSelf=true}). Only classes under {@code ai.djl.} are changed: the
 * public API types and their engine implementations, whichever DJL version and engine is loaded.
 * Classes already loaded are retransformed (method bodies only), later ones on loading. Each hook
 * starts with a test of {@link Recorder#on}; with it off, DJL runs as before.
 */
final class RecorderAgent {

    private static boolean installed;
    /** Classes the agent changed, and any it failed on ("class: error"), for the tests and reports. */
    static final List<String> transformed = new ArrayList<>();
    static final List<String> failed = new ArrayList<>();

    private RecorderAgent() {}

    static synchronized void install() {
        if (installed) {
            return;
        }
        Instrumentation inst = ByteBuddyAgent.install();
        removeAttachSocket();
        AgentBuilder agent = new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(new Failures())
                .ignore(not(nameStartsWith("ai.djl.")));
        agent = hook(agent, "ai.djl.ndarray.NDArray",
                advice(Hooks.Trainable.class, named("setRequiresGradient").and(takesArguments(boolean.class))),
                advice(Hooks.ArrayCall.class, named("stopGradient").and(takesArguments(0)).or(named("oneHot"))));
        agent = hook(agent, "ai.djl.training.GradientCollector",
                advice(Hooks.CollectorOpened.class, isConstructor()),
                advice(Hooks.Backward.class, named("backward").and(takesArguments(1))));
        agent = hook(agent, "ai.djl.nn.Block",
                advice(Hooks.Forward.class, Hooks.Leave.class,
                        named("forward").and(takesArguments(4)).and(takesArgument(2, boolean.class))));
        agent = hook(agent, "ai.djl.training.loss.Loss",
                advice(Hooks.Evaluate.class, Hooks.Leave.class, named("evaluate").and(takesArguments(2))));
        agent = hook(agent, "ai.djl.training.dataset.Dataset",
                advice(Hooks.GetData.class, Hooks.Leave.class, named("getData").and(takesArguments(1))));
        agent = hook(agent, "ai.djl.training.ParameterServer",
                advice(Hooks.ServerUpdate.class, Hooks.Leave.class, named("update").and(takesArguments(3))));
        agent = hook(agent, "ai.djl.training.optimizer.Optimizer",
                advice(Hooks.OptimizerUpdate.class,
                        named("update").and(takesArguments(3)).and(takesArgument(0, String.class))));
        agent.installOn(inst);
        installed = true;
    }

    /**
     * The self-attach leaves the JVM's attach listener socket, {@code /tmp/.java_pid<pid>}. Only an
     * orderly JVM exit removes it, and a worker's JVM ends otherwise (a kill, a crash, the process's
     * own exit), so each run would leave one behind; nothing attaches to this JVM again, so it goes now.
     */
    private static void removeAttachSocket() {
        try {
            Files.deleteIfExists(Path.of("/tmp", ".java_pid" + ProcessHandle.current().pid()));
        } catch (IOException | SecurityException e) {
            failed.add("attach socket: " + e);
        }
    }

    /** Advice applied to the methods it matches (never abstract ones). */
    private static final class Applied {
        final Advice advice;
        final ElementMatcher.Junction<MethodDescription> methods;

        Applied(Advice advice, ElementMatcher.Junction<? super MethodDescription> methods) {
            this.advice = advice;
            this.methods = not(isAbstract()).and(methods);
        }
    }

    private static Applied advice(Class<?> advice, ElementMatcher.Junction<? super MethodDescription> methods) {
        return new Applied(Advice.to(advice), methods);
    }

    /** Separate enter and exit advice (a counted call and its {@link Hooks.Leave}). */
    private static Applied advice(Class<?> enter, Class<?> exit,
                                  ElementMatcher.Junction<? super MethodDescription> methods) {
        return new Applied(Advice.to(enter, exit), methods);
    }

    /** Every class (not interface) under ai.djl. that has {@code type} among its super types. */
    private static AgentBuilder hook(AgentBuilder agent, String type, Applied... applied) {
        return agent.type(hasSuperType(named(type)).and(not(isInterface())))
                .transform((DynamicType.Builder<?> builder, TypeDescription td, ClassLoader loader,
                            JavaModule module, java.security.ProtectionDomain domain) -> {
                    DynamicType.Builder<?> b = builder;
                    for (Applied a : applied) {
                        b = b.visit(a.advice.on(a.methods));
                    }
                    return b;
                }); // not terminal: a class matched by two families gets both
    }

    /** Keeps the names of the changed classes and any failure, instead of printing them. */
    private static final class Failures extends AgentBuilder.Listener.Adapter {
        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module,
                                     boolean loaded, DynamicType dynamicType) {
            synchronized (transformed) {
                transformed.add(type.getName());
            }
        }

        @Override
        public void onError(String name, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
            synchronized (failed) {
                failed.add(name + ": " + error);
            }
        }
    }
}
