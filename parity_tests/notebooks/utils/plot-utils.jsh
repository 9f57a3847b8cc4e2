// a plotting prelude that needs the notebook kernel; djl-parity replaces it with its stand-ins
import tech.tablesaw.plotly.components.Figure;
