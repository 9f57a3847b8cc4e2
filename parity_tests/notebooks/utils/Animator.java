// djl-parity's test animator: collects (epoch, value, series) rows in a Tablesaw table and shows
// them as one line per series, first with display(...), then by replacing that display.
import tech.tablesaw.api.FloatColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.api.LinePlot;
import tech.tablesaw.plotly.components.Figure;

public class Animator {
    private final FloatColumn epochs = FloatColumn.create("epoch");
    private final FloatColumn values = FloatColumn.create("value");
    private final StringColumn series = StringColumn.create("metric");
    private final Table rows = Table.create("animator", epochs, values, series);
    private String shownAs = null;

    public void add(float epoch, float value, String metric) {
        epochs.append(epoch);
        values.append(value);
        series.append(metric);
    }

    public void show() {
        Figure figure = LinePlot.create("", rows, "epoch", "value", "metric");
        if (shownAs == null) {
            shownAs = display(figure);
        } else {
            updateDisplay(shownAs, figure);
        }
    }
}
