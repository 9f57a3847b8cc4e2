package org.djlparity.notebook;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Answers the notebook's data URLs from local files, inside this JVM: once installed, an
 * http(s) URL whose host and path were registered reads the registered file, and any other
 * http(s) URL fails with a message saying that the run is offline. Other protocols are untouched.
 */
public final class OfflineUrls {

    private static final Map<String, Path> FILES = new ConcurrentHashMap<>();
    private static final List<String> REFUSED = new ArrayList<>();
    private static volatile boolean installed;

    private OfflineUrls() {}

    /** Serves {@code file} for {@code url} (scheme ignored). Installs the handler on first use. */
    public static synchronized void serve(String url, Path file) throws IOException {
        install();
        FILES.put(key(new URL(url)), file);
    }

    /** The URLs refused since the last {@link #forget}, in order, each once. */
    public static synchronized List<String> refused() {
        return new ArrayList<>(REFUSED);
    }

    /** Forgets the served files and the refused URLs (a new notebook run). */
    public static synchronized void forget() {
        FILES.clear();
        REFUSED.clear();
    }

    private static synchronized void refuse(URL url) {
        if (!REFUSED.contains(url.toString())) {
            REFUSED.add(url.toString());
        }
    }

    private static String key(URL url) {
        return url.getHost().toLowerCase() + url.getPath();
    }

    private static void install() {
        if (installed) {
            return;
        }
        try {
            URL.setURLStreamHandlerFactory(
                    protocol -> "http".equals(protocol) || "https".equals(protocol) ? new Handler() : null);
        } catch (Error e) {
            throw new IllegalStateException(
                    "another URL handler factory is installed in this JVM; cannot serve the data URL offline", e);
        }
        installed = true;
    }

    private static final class Handler extends URLStreamHandler {
        @Override
        protected URLConnection openConnection(URL url) throws IOException {
            Path file = FILES.get(key(url));
            if (file == null) {
                refuse(url);
                throw new IOException("djl-parity runs notebooks offline: " + url
                        + " is not one of the data files it serves");
            }
            return new URLConnection(url) {
                @Override
                public void connect() {
                    connected = true;
                }

                @Override
                public InputStream getInputStream() throws IOException {
                    return Files.newInputStream(file);
                }

                @Override
                public long getContentLengthLong() {
                    try {
                        return Files.size(file);
                    } catch (IOException e) {
                        return -1;
                    }
                }
            };
        }
    }
}
