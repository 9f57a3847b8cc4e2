"""`djl-parity sweep`: a matrix of compare, notebook and train runs as Ray tasks, resumable, with one index.

``spec`` reads the TOML matrix into jobs; ``keys`` says when a result can be reused; ``jobs``
runs one attempt of a job as its own process tree and reads its outcome (``outcomes``);
``ray_runner`` runs the jobs on Ray; ``folder`` holds the sweep folder's files; ``index`` and
``page`` write sweep.json and sweep.html; ``progress`` speaks on stderr; ``run`` ties them
together for the command line. docs/sweep.md describes it for users.
"""
