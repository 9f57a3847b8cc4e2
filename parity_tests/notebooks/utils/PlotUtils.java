// djl-parity's Java side needs no separate PlotUtils in these tests
