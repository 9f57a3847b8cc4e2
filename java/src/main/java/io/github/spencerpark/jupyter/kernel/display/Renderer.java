package io.github.spencerpark.jupyter.kernel.display;

import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernel's display renderer (stand-in): notebooks register a render function per class, and
 * every displayed object is rendered by the latest registration for its class, as requested.
 */
public final class Renderer {

    /** A registration being built: the class, the MIME types it prefers, then its function. */
    public final class Registration<T> {
        private final Class<T> type;
        private final List<MIMEType> preferred = new ArrayList<>();

        Registration(Class<T> type) {
            this.type = type;
        }

        public Registration<T> preferring(MIMEType... types) {
            preferred.addAll(Arrays.asList(types));
            return this;
        }

        public Registration<T> supporting(MIMEType... types) {
            return preferring(types);
        }

        public void register(RenderFunction<T> function) {
            synchronized (Renderer.this) {
                registered.add(new Registered<>(type, List.copyOf(preferred), function));
            }
        }
    }

    private static final class Registered<T> {
        final Class<T> type;
        final List<MIMEType> preferred;
        final RenderFunction<T> function;

        Registered(Class<T> type, List<MIMEType> preferred, RenderFunction<T> function) {
            this.type = type;
            this.preferred = preferred;
            this.function = function;
        }

        void render(Object o, RenderContext context) {
            function.render(type.cast(o), context);
        }
    }

    private final List<Registered<?>> registered = new ArrayList<>();

    public <T> Registration<T> createRegistration(Class<T> type) {
        return new Registration<>(type);
    }

    /** {@code o} rendered as {@code mimeTypes} (default: the registration's preferred types). */
    public synchronized DisplayData render(Object o, String... mimeTypes) {
        DisplayData out = new DisplayData(o);
        out.putText(String.valueOf(o));
        for (int i = registered.size() - 1; i >= 0; i--) {
            Registered<?> r = registered.get(i);
            if (r.type.isInstance(o)) {
                List<MIMEType> wanted = new ArrayList<>(r.preferred);
                if (mimeTypes.length > 0) {
                    wanted.clear();
                    Arrays.stream(mimeTypes).map(MIMEType::parse).forEach(wanted::add);
                }
                r.render(o, new RenderContext(wanted, out));
                break;
            }
        }
        return out;
    }

    /** Forgets every registration (a new notebook run). */
    public synchronized void clear() {
        registered.clear();
    }
}
