// An animator that would draw a Tablesaw line plot; djl-parity loads its recording stand-in instead.
import tech.tablesaw.api.Table;

public class Animator {
    private final Table points = Table.create("points");

    public void add(float epoch, float value, String metric) {}

    public void show() {}
}
