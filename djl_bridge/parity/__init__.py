"""The parity engine: both sides from one start, stage by stage, the tolerance policy, known divergences, reports."""
