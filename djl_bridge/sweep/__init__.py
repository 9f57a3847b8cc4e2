"""`djl-parity sweep`: a matrix of compare, notebook and train runs as Ray tasks, resumable, with one index.

``spec`` reads the TOML matrix into jobs; ``keys`` says what makes a result reusable;
``jobs`` runs one job as its own process tree; ``ray_runner`` runs many on Ray; ``folder``
holds the sweep folder's files; ``index`` writes sweep.json and sweep.html; ``sweep`` ties
them together for the command line.
"""
