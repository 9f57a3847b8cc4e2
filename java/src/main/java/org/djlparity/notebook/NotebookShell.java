package org.djlparity.notebook;

import org.djlparity.recorder.Recorder;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A notebook kernel's shell in this JVM: JShell with execution on the calling thread, so the
 * notebook's objects are this JVM's objects. Code is given unit by unit (a cell, or a file a
 * cell loads), split into JShell snippets, and evaluated snippet by snippet; every snippet
 * remembers where it came from, so a failure is reported at its cell, file and line.
 */
public final class NotebookShell implements AutoCloseable {

    /** Where a snippet's text came from: the cell, the file or cell text, its first line there. */
    private static final class Origin {
        final int cell;
        final String source;
        final int firstLine;

        Origin(int cell, String source, int firstLine) {
            this.cell = cell;
            this.source = source;
            this.firstLine = firstLine;
        }
    }

    private final JShell shell;
    private final DirectExecution execution = new DirectExecution();
    private final Map<String, Origin> origins = new HashMap<>();
    private Object cellValue;
    private static volatile int currentCell;
    private final PrintStream originalOut;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final Map<String, Object> exported = new HashMap<>();
    private final List<String> declared = new ArrayList<>();
    private static NotebookShell current;

    public NotebookShell() {
        shell = JShell.builder().executionEngine(execution, Map.of()).build();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                shell.addToClasspath(entry);
            }
        }
        originalOut = System.out;
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                originalOut.write(b);
                captured.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                originalOut.write(b, off, len);
                captured.write(b, off, len);
            }

            @Override
            public void flush() {
                originalOut.flush();
            }
        };
        System.setOut(new PrintStream(tee, true, StandardCharsets.UTF_8));
        current = this;
    }

    /** Adds a jar (or class folder) to the shell's class path: the compiler's and the loader's. */
    public void addToClasspath(String path) {
        shell.addToClasspath(path);
    }

    /** The cell whose snippet is running (or ran last); 0 before the first. */
    public static int currentCell() {
        return currentCell;
    }

    /**
     * The value of the last snippet evaluated when it was an expression (what a notebook kernel
     * shows as the value of a cell that ends with it); null after a statement or declaration.
     */
    public Object cellValue() {
        return cellValue;
    }

    /** The snippets of {@code code}, each with its first line (1-based) within {@code code}. */
    public List<Piece> split(String code) {
        SourceCodeAnalysis sca = shell.sourceCodeAnalysis();
        List<Piece> out = new ArrayList<>();
        String rest = code;
        int consumedLines = 0;
        while (!rest.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = sca.analyzeCompletion(rest);
            SourceCodeAnalysis.Completeness c = info.completeness();
            if (c == SourceCodeAnalysis.Completeness.EMPTY) {
                break;
            }
            boolean complete = c.isComplete() || c == SourceCodeAnalysis.Completeness.UNKNOWN;
            String remaining = info.remaining() == null ? "" : info.remaining();
            int used = rest.length() - remaining.length();
            if (used <= 0 || info.source() == null) {
                // the analysis cannot cut this text into snippets (not Java): hand it over whole,
                // so that evaluating it reports the compiler's own error at its first line
                out.add(new Piece(rest.stripLeading(), consumedLines + leadingLines(rest) + 1, complete));
                break;
            }
            String consumed = rest.substring(0, used);
            int lead = leadingLines(consumed);
            String text = (complete ? info.source() : rest).stripLeading();
            out.add(new Piece(text, consumedLines + lead + 1, complete));
            if (!complete) {
                break;
            }
            consumedLines += count(consumed, '\n');
            rest = info.remaining();
        }
        return out;
    }

    /** One snippet of a unit: its text, its first line within the unit, and whether it is complete. */
    public static final class Piece {
        public final String text;
        public final int line;
        public final boolean complete;

        Piece(String text, int line, boolean complete) {
            this.text = text;
            this.line = line;
            this.complete = complete;
        }
    }

    /**
     * Evaluates one snippet that starts at {@code line} of {@code source} (cell {@code cell});
     * the result says whether it ran, and if not where and why it failed.
     */
    public Outcome eval(int cell, String source, int line, String text) {
        captured.reset();
        currentCell = cell;
        cellValue = null;
        execution.forgetValue();
        List<SnippetEvent> events;
        Recorder.beginUnit(cell, source, line); // a recorded loop never spans two snippets
        try {
            events = shell.eval(text);
        } finally {
            Recorder.endUnit();
            System.out.flush();
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        captured.reset();
        declared.clear();
        for (SnippetEvent e : events) {
            if (e.snippet() != null && e.causeSnippet() == null) {
                origins.put(e.snippet().id(), new Origin(cell, source, line));
                if (e.snippet() instanceof jdk.jshell.VarSnippet && e.status().isDefined()
                        && e.exception() == null) {
                    declared.add(((jdk.jshell.VarSnippet) e.snippet()).name());
                }
            }
        }
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) {
                continue;
            }
            if (e.status() == Snippet.Status.REJECTED) {
                List<Diag> errors = shell.diagnostics(e.snippet()).filter(Diag::isError)
                        .collect(Collectors.toList());
                Diag d = errors.isEmpty() ? null : errors.get(0);
                int at = d == null ? 0 : Math.max(0, (int) d.getStartPosition());
                String msg = d == null ? "rejected" : d.getMessage(Locale.ROOT);
                return Outcome.failure("compile", null, msg.strip().replaceAll("\\s*\\n\\s*", "; "), line + count(text.substring(0,
                        Math.min(at, text.length())), '\n'), printed, List.of(), List.of(), "");
            }
            JShellException ex = e.exception();
            if (ex != null) {
                return runtimeFailure(ex, line, printed);
            }
            if (isExpression(e.snippet())) {
                cellValue = execution.lastValue();
            }
        }
        return Outcome.ok(printed);
    }

    private static boolean isExpression(Snippet s) {
        return s != null && (s.kind() == Snippet.Kind.EXPRESSION || (s.kind() == Snippet.Kind.VAR
                && s.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND));
    }

    private Outcome runtimeFailure(JShellException ex, int line, String printed) {
        List<String> chain = new ArrayList<>();
        Throwable t = ex;
        while (t != null) {
            chain.add(describe(t));
            t = t.getCause();
        }
        List<String> frames = new ArrayList<>();
        StringBuilder trace = new StringBuilder();
        int snippetLine = line;
        for (Throwable u = ex; u != null; u = u.getCause()) {
            trace.append(u == ex ? "" : "Caused by: ").append(describe(u)).append('\n');
            for (StackTraceElement f : u.getStackTrace()) {
                trace.append("\tat ").append(f).append('\n');
                String file = f.getFileName();
                if (file == null || !file.startsWith("#")) {
                    continue;
                }
                Origin o = origins.get(file.substring(1));
                if (o == null) {
                    continue;
                }
                int at = o.firstLine + Math.max(f.getLineNumber(), 1) - 1;
                frames.add(o.cell + "\t" + o.source + "\t" + at + "\t" + simpleMethod(f));
            }
        }
        if (ex instanceof UnresolvedReferenceException) {
            Snippet s = ((UnresolvedReferenceException) ex).getSnippet();
            String missing = String.join(", ", shell.unresolvedDependencies((jdk.jshell.DeclarationSnippet) s)
                    .collect(Collectors.toList()));
            return Outcome.failure("unresolved", null,
                    s.source().lines().findFirst().orElse("").trim() + " uses " + missing
                            + ", which no cell defines", snippetLine, printed, chain, frames, trace.toString());
        }
        String cls = ex instanceof EvalException ? ((EvalException) ex).getExceptionClassName()
                : ex.getClass().getName();
        return Outcome.failure("runtime", cls, ex.getMessage(), snippetLine, printed, chain, frames,
                trace.toString());
    }

    private static String describe(Throwable t) {
        String cls = t instanceof EvalException ? ((EvalException) t).getExceptionClassName()
                : t.getClass().getName();
        return cls + ": " + t.getMessage();
    }

    private static String simpleMethod(StackTraceElement f) {
        String cls = f.getClassName();
        return cls.isEmpty() ? "(top level)" : cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethodName();
    }

    /** How one snippet went. Frames: "cell TAB source TAB line TAB method", innermost first. */
    public static final class Outcome {
        public final boolean ok;
        public final String kind;
        public final String exceptionClass;
        public final String message;
        public final int line;
        public final String printed;
        public final List<String> causes;
        public final List<String> frames;
        /** The Java stack trace, every frame and cause (empty unless a runtime failure). */
        public final String stackTrace;

        private Outcome(boolean ok, String kind, String exceptionClass, String message, int line,
                        String printed, List<String> causes, List<String> frames, String stackTrace) {
            this.ok = ok;
            this.kind = kind;
            this.exceptionClass = exceptionClass;
            this.message = message;
            this.line = line;
            this.printed = printed;
            this.causes = causes;
            this.frames = frames;
            this.stackTrace = stackTrace;
        }

        static Outcome ok(String printed) {
            return new Outcome(true, "ok", null, null, 0, printed, List.of(), List.of(), "");
        }

        static Outcome failure(String kind, String cls, String msg, int line, String printed,
                               List<String> causes, List<String> frames, String stackTrace) {
            return new Outcome(false, kind, cls, msg == null ? "" : msg, line, printed, causes, frames, stackTrace);
        }
    }

    /**
     * The value of a side-effect-free expression over the notebook's names (a variable, a field,
     * a helper's getter), read after or between cells; boxed for primitives.
     */
    public Object evaluate(String expression) {
        String key = "expr:" + expression;
        exported.remove(key);
        List<SnippetEvent> ev = shell.eval(NotebookShell.class.getName() + ".export(\"" + key.replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\", (Object) (" + expression + "));");
        for (SnippetEvent e : ev) {
            if (e.exception() != null || e.status() == Snippet.Status.REJECTED) {
                throw new IllegalArgumentException("cannot evaluate '" + expression + "' in the notebook");
            }
        }
        return exported.get(key);
    }

    /** The variables the last snippet declared (and so gave a value), when it ran without failing. */
    public List<String> declared() {
        return List.copyOf(declared);
    }

    /** The names of the notebook's variables, in the order JShell keeps them. */
    public List<String> variableNames() {
        return shell.variables().map(jdk.jshell.VarSnippet::name).distinct().collect(Collectors.toList());
    }

    /** A field of {@code target} by name, private or inherited ones too; null when it has none. */
    public static Object field(Object target, String name) throws IllegalAccessException {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (f.getName().equals(name)) {
                    f.setAccessible(true);
                    return f.get(target);
                }
            }
        }
        return null;
    }

    /** Called from the shell by {@link #evaluate}. */
    public static void export(String name, Object value) {
        current.exported.put(name, value);
    }

    @Override
    public void close() {
        System.setOut(originalOut);
        shell.close();
        if (current == this) {
            current = null;
        }
    }

    private static int leadingLines(String s) {
        int n = 0;
        for (int i = 0; i < s.length() && Character.isWhitespace(s.charAt(i)); i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    private static int count(String s, char c) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                n++;
            }
        }
        return n;
    }
}
