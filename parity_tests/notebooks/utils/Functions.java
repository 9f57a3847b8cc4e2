// djl-parity's Java side needs no separate Functions in these tests
