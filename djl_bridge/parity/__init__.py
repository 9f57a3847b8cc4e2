"""The parity layer: the stage table, the judges, the registry of known divergences, the reports. It only judges."""
