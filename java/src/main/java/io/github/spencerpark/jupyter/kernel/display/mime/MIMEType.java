package io.github.spencerpark.jupyter.kernel.display.mime;

/** A MIME type by name, with the constants notebooks name (stand-in for the kernel's class). */
public final class MIMEType {

    public static final MIMEType TEXT_PLAIN = new MIMEType("text/plain");
    public static final MIMEType TEXT_HTML = new MIMEType("text/html");
    public static final MIMEType TEXT_MARKDOWN = new MIMEType("text/markdown");
    public static final MIMEType IMAGE_PNG = new MIMEType("image/png");
    public static final MIMEType IMAGE_SVG = new MIMEType("image/svg+xml");
    public static final MIMEType APPLICATION_JSON = new MIMEType("application/json");

    private final String name;

    private MIMEType(String name) {
        this.name = name;
    }

    /** The type named {@code name} ("text/html"). */
    public static MIMEType parse(String name) {
        return new MIMEType(name.trim().toLowerCase(java.util.Locale.ROOT));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MIMEType && ((MIMEType) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
