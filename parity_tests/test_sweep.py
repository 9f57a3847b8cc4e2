"""`djl-parity sweep` as a user meets it: the spec, the folder rules, and real sweeps on a local Ray instance.

The sweeps run real `djl-parity` jobs in real process groups: a notebook whose cell kills its own
process with SIGKILL (a crash), a training run longer than its timeout (stopped by SIGTERM to its
group), and a real SIGINT or SIGTERM to the sweep itself.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLI = [sys.executable, "-m", "djl_bridge.cli"]

TINY_TRAIN = """
command = "train"
impl = "python"
model = "lstm"
hidden = 8
max-tokens = 1200
batch-size = 4
offset = 1
device = "cpu"
"""


def sweep(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "sweep", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write_spec(folder: Path, text: str) -> Path:
    spec = folder / "spec.toml"
    spec.write_text(text)
    return spec


def index_of(out: Path) -> dict:
    return json.loads((out / "sweep.json").read_text())


def test_a_job_table_is_a_matrix_over_its_lists(tmp_path):
    spec = write_spec(
        tmp_path,
        '[[job]]\ncommand = "train"\nimpl = "python"\nmodel = ["lstm", "gru"]\nseed = [0, 1]\n'
        'config = [{name = "small", hidden = 8}, {name = "wide", hidden = 16, max-tokens = 2000}]\n',
    )
    out = sweep(str(spec), "--list", "--out", "o", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 8
    data = Path(os.environ["DJL_PARITY_DATA"]).resolve()  # the path the resolver checked (links followed)
    assert lines[0] == (
        f"OMP_NUM_THREADS=1 DJL_PARITY_THREADS=1 djl-parity train --impl python --model lstm --seed 0 --hidden 8 "
        f"--out {tmp_path / 'o' / 'jobs' / 'train-lstm-seed0-small'} --data {data}"
    )
    assert lines[-1].split(" --out ")[0].endswith("--model gru --seed 1 --hidden 16 --max-tokens 2000")
    assert len({line.split(" --out ")[1] for line in lines}) == 8, "each job has its own folder"
    assert not (tmp_path / "o").exists(), "--list runs nothing and writes nothing"


def test_the_examples_are_valid_specs(tmp_path):
    small = sweep(str(REPO / "docs/examples/sweep-small.toml"), "--list", cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    commands = [line.split(" djl-parity ")[1] for line in small.stdout.splitlines()]
    assert [c.split()[0] for c in commands] == ["train", "compare", "compare", "notebook"]
    assert any("--engine mxnet" in c for c in commands)
    # the chapters' spec against a stand-in root holding (empty) files at the notebooks' paths
    chapters = (REPO / "docs/examples/sweep-chapters.toml").read_text()
    root = tmp_path / "d2l-java"
    for line in chapters.splitlines():
        if line.strip().startswith('"chapter_') or line.startswith('notebook = "chapter_'):
            nb = root / line.split('"')[1]
            nb.parent.mkdir(parents=True, exist_ok=True)
            nb.touch()
    spec = write_spec(tmp_path, chapters.replace('root = "~/d2l-java"', f'root = "{root}"'))
    listed = sweep(str(spec), "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 90, "15 notebooks x 2 engines x 3 seeds"
    assert len(list(root.rglob("*.ipynb"))) == 15


BAD_SPECS = [
    ("command = \n", "not valid TOML"),
    ('colour = "red"\n[[job]]\ncommand = "train"\n', "unknown top-level key 'colour'"),
    ("cpus = 1\n", "no [[job]] table"),
    ('[[job]]\ncommand = "fit"\n', "command must be one of compare, notebook, train, got 'fit'"),
    ('[[job]]\ncommand = "compare"\nmax_tokens = 100\n', "No such option '--max_tokens'. Did you mean '--max-tokens'?"),
    ('[[job]]\ncommand = "compare"\nmodel = ["lstm", "transformer"]\n', "'transformer' is not one of"),
    ('[[job]]\ncommand = "train"\n', "Missing option '--impl'. Choose from: | python, | djl"),
    ('[[job]]\ncommand = "notebook"\nnotebook = "no-such.ipynb"\n', "notebook no-such.ipynb does not exist"),
    ('[[job]]\ncommand = "compare"\nout = "x"\n', "'out' cannot be set in a spec"),
    ('[[job]]\ncommand = "compare"\nseed = []\n', "seed is an empty list"),
    ('[[job]]\ncommand = "compare"\nhidden = 8\nconfig = {hidden = 16}\n', "'hidden' is set both in the job"),
    ('[[job]]\ncommand = "compare"\n[[job]]\ncommand = "compare"\n', "compare and compare are the same run"),
    ('[[job]]\ncommand = "compare"\ncpus = 0\n', "cpus must be a positive number"),
]


@pytest.mark.parametrize("text,fragment", BAD_SPECS, ids=[f[1][:28] for f in BAD_SPECS])
def test_a_bad_spec_is_one_line_exit_2_and_writes_nothing(text, fragment, tmp_path):
    spec = write_spec(tmp_path, text)
    out = sweep(str(spec), "--out", "o", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and fragment in out.stderr, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_a_job_wider_than_the_local_instance_is_refused_before_ray_starts(tmp_path):
    spec = write_spec(tmp_path, f"cpus = 64\n[[job]]{TINY_TRAIN}")
    out = sweep(str(spec), "--out", "o", "--cpus", "2", cwd=tmp_path)
    assert out.returncode == 2 and "train-lstm declares 64 CPUs; the local Ray instance (--cpus 2) has 2" in out.stderr
    assert not (tmp_path / "o").exists()


def test_an_out_folder_that_is_not_a_sweep_folder_is_refused_and_left_alone(tmp_path):
    spec = write_spec(tmp_path, f"[[job]]{TINY_TRAIN}")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own file")
    out = sweep(str(spec), "--out", str(mine), cwd=tmp_path)
    assert out.returncode == 2 and "exists and was not written by djl-parity (it has no .djl-parity-run)" in out.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "my own file"
    inside = tmp_path / "work"
    inside.mkdir()
    out = sweep(str(spec), "--out", str(tmp_path), cwd=inside)
    assert out.returncode == 2 and f"--out {tmp_path} is or contains the current folder" in out.stderr


def test_without_ray_the_sweep_is_one_line_exit_3(tmp_path):
    spec = write_spec(tmp_path, f"[[job]]{TINY_TRAIN}")
    no_ray = "import sys; sys.modules['ray'] = None; from djl_bridge.cli import main; main()"  # ray: unimportable
    out = subprocess.run(
        [sys.executable, "-c", no_ray, "sweep", str(spec), "--out", "o"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 3, out.stderr
    assert out.stderr.strip().splitlines() == [
        "Error: djl-parity sweep runs its jobs on Ray, which is not installed: "
        "pip install -e '.[sweep]' in the project's environment (bash scripts/setup.sh does it)"
    ]
    assert not (tmp_path / "o").exists()


def test_a_cluster_address_that_does_not_answer_is_one_line_exit_3(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = write_spec(tmp_path, f"[[job]]{TINY_TRAIN}")
    out = sweep(str(spec), "--out", "o", "--address", f"127.0.0.1:{port}", cwd=tmp_path, timeout=60)
    assert out.returncode == 3, out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(f"Error: cannot reach Ray at 127.0.0.1:{port}: ")
    assert not (tmp_path / "o").exists()


JOBS = f"""
root = "{HERE / "notebooks" / "chapter"}"
timeout = 300

[[job]]{TINY_TRAIN}epochs = 2

[[job]]
name = "published"
command = "compare"
engine = "pytorch"
model = "bilstm"
hidden = 8
max-tokens = 1200
batch-size = 4
epochs = 1
offset = 1

[[job]]
name = "crash"
command = "notebook"
notebook = "kill-self.ipynb"
no-compare = true

[[job]]
name = "hang"{TINY_TRAIN}epochs = 1000000
timeout = 3

[[job]]
name = "refused"{TINY_TRAIN}num-steps = 5000
"""


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_crash_and_timeout_are_retried_once_and_a_rerun_runs_nothing(tmp_path):
    spec, out = write_spec(tmp_path, JOBS), tmp_path / "sweep"
    first = sweep(str(spec), "--out", str(out), "--cpus", "2", cwd=tmp_path)
    assert first.returncode == 6, first.stderr[-3000:]  # the worst job crashed
    assert first.stdout.startswith(
        "CRASHED: 5 jobs (PASS 1, INCOMPLETE 1, BAD-INPUT 1, TIMED-OUT 1, CRASHED 1); 5 ran, 0 reused"
    )
    index = index_of(out)
    rows = {r["name"]: r for r in index["jobs"]}
    assert [r["outcome"] for r in index["jobs"]] == ["PASS", "INCOMPLETE", "CRASHED", "TIMED-OUT", "BAD-INPUT"]
    assert index["exit_code"] == 6 and index["ray"]["local"] and index["ray"]["start_s"] > 0
    crash, hang = rows["crash-kill-self"], rows["hang-lstm"]
    assert [(a["outcome"], a["exit_code"], a["detail"]) for a in crash["attempts"]] == [
        ("CRASHED", -signal.SIGKILL, "killed by SIGKILL")
    ] * 2
    assert [a["outcome"] for a in hang["attempts"]] == ["TIMED-OUT"] * 2
    assert all(a["exit_code"] == 128 + signal.SIGTERM for a in hang["attempts"]), "SIGTERM to its group: exit 143"
    refused = rows["refused-lstm"]["attempts"]
    assert [(a["outcome"], a["exit_code"]) for a in refused] == [("BAD-INPUT", 2)], "an answer is not retried"
    published = rows["published-bilstm-pytorch"]  # a fixed engine is part of a job's name
    assert published["first_divergence"].startswith("init.independent (not compared")
    assert (out / published["report"]).is_file() and (out / rows["train-lstm"]["report"]).is_file()
    assert sorted(os.listdir(out / "jobs")) == ["published-bilstm-pytorch", "train-lstm"], "no staging by the killed"
    for line in ("start crash-kill-self (second attempt)", "TIMED-OUT hang-lstm after", "[5/5] "):
        assert line in first.stderr
    html = (out / "sweep.html").read_text()
    assert all(name in html for name in rows) and "http" not in html and 'href="jobs/train-lstm/metrics.json"' in html
    before = _files(out)

    again = sweep(str(spec), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 6 and "5 jobs; 5 reused from earlier runs; 0 to run" in again.stderr
    resumed = index_of(out)
    assert resumed["jobs_ran"] == 0 and resumed["jobs_reused"] == 5 and resumed["ray"] is None
    assert [r["attempts"] for r in resumed["jobs"]] == [r["attempts"] for r in index["jobs"]]
    after = _files(out)
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == {"sweep.json", "sweep.html"}, "no job started: no log, result or job file touched"


def _interrupt_when(args: list[str], cwd: Path, ready: tuple[str, ...], sig: int) -> tuple[int, str]:
    """Run a sweep, send ``sig`` once every line of ``ready`` has appeared on its stderr; its exit code and stderr."""
    proc = subprocess.Popen([*CLI, "sweep", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, deadline = "", time.monotonic() + 240
    try:
        while not all(r in seen for r in ready) and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stderr], [], [], 1.0)[0]:
                seen += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        assert all(r in seen for r in ready), seen
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        return proc.returncode, seen + err.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_stops_the_jobs_keeps_what_finished_and_a_rerun_resumes(sig, tmp_path):
    # one CPU: the jobs run one after the other, and the second is stopped as it starts
    spec, out = write_spec(tmp_path, f"[[job]]{TINY_TRAIN}epochs = [2, 300]\n"), tmp_path / "sweep"
    ready = ("[1/2] PASS train-lstm-epochs2", "start train-lstm-epochs300")
    code, err = _interrupt_when([str(spec), "--out", str(out), "--cpus", "1"], tmp_path, ready, sig)
    assert code == 128 + sig, err[-3000:]
    name = signal.Signals(sig).name
    assert err.strip().splitlines()[-1] == (
        f"djl-parity: sweep stopped by {name}; the finished jobs' results and the index are in {out}; "
        "the same command resumes"
    )
    assert "Traceback" not in err
    pid = int(err.split("start train-lstm-epochs300: pid ")[1].split()[0])
    assert not Path(f"/proc/{pid}").exists(), "the job's process was stopped with the sweep"
    index = index_of(out)
    assert [(r["outcome"], r["ran"]) for r in index["jobs"]] == [("PASS", True), ("INTERRUPTED", False)]
    assert index["exit_code"] == 128 + sig and f"stopped by {name}" in index["jobs"][1]["detail"]

    if sig != signal.SIGINT:
        return  # the resume does not depend on the signal: run once, after SIGINT
    again = sweep(str(spec), "--out", str(out), "--cpus", "1", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    rows = index_of(out)["jobs"]
    assert [(r["outcome"], r["ran"]) for r in rows] == [("PASS", False), ("PASS", True)]
    assert rows[0]["finished"] == index["jobs"][0]["finished"], "the finished job was not run again"
