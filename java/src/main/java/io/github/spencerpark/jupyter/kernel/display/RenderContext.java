package io.github.spencerpark.jupyter.kernel.display;

import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import java.util.List;
import java.util.function.Supplier;

/** What a render function is asked for: the requested MIME types, and where its output goes. */
public final class RenderContext {

    private final List<MIMEType> requested;
    private final DisplayData out;

    RenderContext(List<MIMEType> requested, DisplayData out) {
        this.requested = requested;
        this.out = out;
    }

    public boolean wantsDataRenderedAs(MIMEType type) {
        return requested.contains(type);
    }

    /** Puts {@code supplier}'s text as {@code type} when that type is requested. */
    public void renderIfRequested(MIMEType type, Supplier<String> supplier) {
        if (wantsDataRenderedAs(type)) {
            out.putData(type, supplier.get());
        }
    }

    public DisplayData getOutputContainer() {
        return out;
    }
}
