"""The sides of a comparison: each turns a run of the notebook into values the parity layer reads."""
