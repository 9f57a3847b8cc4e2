package io.github.spencerpark.jupyter.kernel.display;

import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import java.util.LinkedHashMap;
import java.util.Map;

/** A rendered object: its representations by MIME type, and the object itself (for djl-parity). */
public final class DisplayData {

    private final Object source;
    private final Map<String, Object> data = new LinkedHashMap<>();

    DisplayData(Object source) {
        this.source = source;
    }

    /** The object that was rendered. */
    public Object source() {
        return source;
    }

    public void putData(MIMEType type, Object value) {
        data.put(type.toString(), value);
    }

    public void putText(String text) {
        putData(MIMEType.TEXT_PLAIN, text);
    }

    public void putHTML(String html) {
        putData(MIMEType.TEXT_HTML, html);
    }

    public Map<String, Object> getData() {
        return data;
    }

    @Override
    public String toString() {
        return String.valueOf(source);
    }
}
