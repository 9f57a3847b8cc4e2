"""Nothing lost: --out replaces only the tool's own folders; every option is checked against what holds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "djl_bridge.cli"]
NOTEBOOK = Path(__file__).parent / "notebooks" / "chapter" / "lstm-small.ipynb"
TINY = ["--model", "lstm", "--hidden", "8", "--max-tokens", "1200", "--batch-size", "4", "--epochs", "1"]
TINY += ["--offset", "1"]
#: every command that writes an --out folder, as a user runs it (tiny configs)
WRITERS = {
    "train": ["train", "--impl", "python", "--device", "cpu", *TINY],
    "compare": ["compare", "--layout-fix", *TINY],
    "notebook": ["notebook", str(NOTEBOOK), "--epochs", "1"],
}


def run(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})}
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root``: its bytes and modification time."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()
    }


def user_folder(root: Path) -> Path:
    folder = root / "DIR"
    (folder / "sub").mkdir(parents=True)
    (folder / "thesis.txt").write_text("three years of work\n")
    (folder / "sub" / "a.txt").write_text("notes\n")
    return folder


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_users_folder_is_refused_and_left_untouched(command, tmp_path):
    folder = user_folder(tmp_path)
    before = snapshot(tmp_path)
    proc = run([*WRITERS[command], "--out", str(folder)], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "was not written by djl-parity" in one_error_line(proc)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", list(WRITERS))
@pytest.mark.parametrize("place", ["cwd", "home", "root", "ancestor of cwd"])
def test_the_current_folder_home_and_root_are_refused(command, place, tmp_path):
    home, work = tmp_path / "home", tmp_path / "home" / "work"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("mine")
    out = {"cwd": ".", "home": str(home), "root": "/", "ancestor of cwd": ".."}[place]
    before = snapshot(tmp_path)
    proc = run([*WRITERS[command], "--out", out], work, env={"HOME": str(home), "XDG_CACHE_HOME": _cache()})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is or contains" in one_error_line(proc)
    assert snapshot(tmp_path) == before


def _cache() -> str:
    from djl_bridge.data import cache_dir

    return str(cache_dir().parent)


def test_a_folder_the_tool_wrote_is_replaced_whole_and_a_users_file_in_it_stops_it(tmp_path):
    out = tmp_path / "r"
    first = run([*WRITERS["train"], "--out", str(out)], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    marker = json.loads((out / ".djl-parity-run").read_text())
    assert marker["command"][:2] == ["djl-parity", "train"]
    assert sorted(marker["files"]) == ["metrics.json", "perplexity.png"]
    (out / "metrics.json").write_text("stale")  # a file the tool wrote, changed: still the tool's, replaced
    second = run([*WRITERS["train"], "--out", str(out)], tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    again = json.loads((out / ".djl-parity-run").read_text())
    assert again["run_id"] != marker["run_id"] and json.loads((out / "metrics.json").read_text())["impl"] == "python"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"], "no staging or replaced folder left beside it"
    (out / "mine.txt").write_text("a user's file")
    before = snapshot(tmp_path)
    third = run([*WRITERS["train"], "--out", str(out)], tmp_path)
    assert third.returncode == 2 and "did not write (mine.txt)" in one_error_line(third)
    assert snapshot(tmp_path) == before


def test_a_file_as_out_and_a_non_png_plot_are_refused(tmp_path):
    thesis = tmp_path / "thesis.txt"
    thesis.write_text("mine")
    proc = run([*WRITERS["train"], "--out", str(thesis)], tmp_path)
    assert proc.returncode == 2 and "is a file" in one_error_line(proc)
    proc = run(["bench", "--rows", "baseline", "--epochs", "1", "--warmup", "0", "--plot", str(thesis)], tmp_path)
    assert proc.returncode == 2 and "is not a PNG picture" in one_error_line(proc)
    assert thesis.read_text() == "mine"


BOUNDS = [
    (["--seed", "99999999999999999999"], "--seed must be in [-2147483648, 2147483647]"),
    (["--seed", "-2147483649"], "--seed must be in [-2147483648, 2147483647]"),
    (["--epochs", "2147483648"], "--epochs must be in [1, 2147483647]"),
    (["--hidden", "2147483647"], "need at least"),
    (["--hidden", "100000"], "need at least"),
    (["--layers", "2147483647", "--hidden", "4000"], "need at least"),
    (["--lr", "99999999999"], "--lr must be in [1, 2147483647]"),
]


@pytest.mark.parametrize("command", ["train", "compare"])
@pytest.mark.parametrize("args,fragment", BOUNDS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_options_beyond_what_holds_them_are_one_line(command, args, fragment, tmp_path):
    proc = run([*WRITERS[command], *args, "--out", str(tmp_path / "o")], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_notebook_seed_and_epochs_are_java_ints(tmp_path):
    for args, fragment in ((["--seed", "5000000000"], "--seed must be in"), (["--epochs", "0"], "must be positive")):
        proc = run([*WRITERS["notebook"], *args, "--out", str(tmp_path / "o")], tmp_path)
        assert proc.returncode == 2 and fragment in one_error_line(proc)


def test_a_negative_seed_is_the_same_run_on_both_sides(tmp_path):
    """DJL's JNI and torch both map a negative seed s to 2^64 + s: the same weights, the same run."""
    outs = {}
    for impl in ("python", "djl"):
        proc = run(["train", "--impl", impl, *TINY, "--seed", "-7", "--out", str(tmp_path / impl)], tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs[impl] = json.loads((tmp_path / impl / "metrics.json").read_text())["perplexities"]
    assert outs["python"] == outs["djl"]


def test_the_memory_estimate_counts_the_real_models_parameters():
    from djl_bridge.config import MODELS
    from djl_bridge.footprint import parameter_count
    from djl_bridge.models import build_model

    for model in MODELS:
        for bias, learn in ((False, False), (True, True)) if model == "birnn-hand" else ((False, False),):
            layers = 3 if not model.endswith(("-scratch", "-hand")) else 1
            net = build_model(model, 28, 7, layers, bias, learn)
            assert parameter_count(model, 28, 7, layers, bias, learn) == sum(p.numel() for p in net.parameters())
