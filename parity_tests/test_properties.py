"""Property-based: generated options, files and --out places, each in a real `djl-parity` subprocess.

For every case: an exit code from the documented set, no traceback, exactly one line on stderr
for exit 2 and 3, nothing written outside --out, no partial --out, every pre-existing file
untouched (the files of an --out folder djl-parity wrote before may be replaced whole).

CI runs a bounded, derandomised profile. The longer profile runs by hand:
``DJL_PARITY_HYPOTHESIS=long DJL_PARITY_HYPOTHESIS_EXAMPLES=300 pytest parity_tests/test_properties.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from djl_bridge.config import MODELS
from djl_bridge.data import resolve_data_file
from djl_bridge.outputs import MARKER, MARKER_SCHEMA, read_marker

CLI = [sys.executable, "-m", "djl_bridge.cli"]
EXIT_CODES = {0, 1, 2, 3, 4}
NOTEBOOK = Path(__file__).parent / "notebooks" / "chapter" / "lstm-small.ipynb"
LONG = os.environ.get("DJL_PARITY_HYPOTHESIS") == "long"
EXAMPLES = int(os.environ.get("DJL_PARITY_HYPOTHESIS_EXAMPLES", "300" if LONG else "24"))
JAVA_INT = 2**31

#: option -> values that run in seconds; everything else generated for it is out of range or not a number
CHEAP = {
    "--epochs": [1, 2],
    "--hidden": [4, 8],
    "--layers": [1, 2],
    "--lr": [1, 2],
    "--batch-size": [4, 8],
    "--num-steps": [5, 35],
    "--max-tokens": [1200, 2000, 170581],
    "--offset": [0, 3, 34, 35],
}
BOUNDARY = [0, -1, JAVA_INT - 1, JAVA_INT, -JAVA_INT - 1, 2**63, 10**30]
GARBAGE = ["abc", "1.5", "", "1e3", " 7", "--epochs", "\u00e9", "0x10"]


def option_values(name: str) -> st.SearchStrategy[str]:
    if name == "--seed":
        ints = st.one_of(st.integers(-JAVA_INT, JAVA_INT - 1), st.sampled_from(BOUNDARY), st.integers())
    else:
        boundary = [b for b in BOUNDARY if not (name == "--epochs" and b == JAVA_INT - 1)]  # valid, but forever
        ints = st.one_of(
            st.sampled_from(CHEAP[name] + boundary), st.integers(max_value=0), st.integers(min_value=JAVA_INT)
        )
    return st.one_of(ints.map(str), st.sampled_from(GARBAGE), st.text(max_size=6))


FILE_KINDS = ("text", "binary", "empty", "huge", "fifo", "folder", "dangling", "unreadable", "real")
OUT_KINDS = ("new", "nested", "user", "marked", "marked+extra", "file", "cwd", "parent", "home", "root", "under-file")
OUT_KINDS += ("odd-name", "link-to-user")


@dataclass
class Case:
    """One generated command line, with the files and the --out place it names."""

    command: list[str]
    options: list[str] = field(default_factory=list)
    data: str | None = None  # a FILE_KINDS entry, passed as --data
    notebook: str | None = None  # a FILE_KINDS entry, "cells:..." or "json:...", the notebook PATH
    out: str = "new"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    command = draw(st.sampled_from([["train", "--impl", "python"], ["train", "--impl", "djl"], ["compare"], ["nb"]]))
    case = Case(command, out=draw(st.sampled_from(OUT_KINDS)))
    if command == ["nb"]:
        case.command = ["notebook"]
        kind = draw(st.sampled_from([*FILE_KINDS, "ours", "cells", "json"]))
        if kind == "cells":
            kind = "cells:" + draw(st.text(max_size=40))
        elif kind == "json":
            kind = "json:" + json.dumps(
                draw(st.recursive(st.none() | st.integers() | st.text(max_size=5), _containers))
            )
        case.notebook = kind
        names = draw(st.lists(st.sampled_from(["--epochs", "--seed"]), max_size=2, unique=True))
    else:
        case.options = ["--device", "cpu", "--model", draw(st.sampled_from([*MODELS, "transformer"]))]
        case.options += ["--layout-fix"] if command == ["compare"] else []
        names = draw(st.lists(st.sampled_from([*CHEAP, "--seed"]), max_size=3, unique=True))
        for fixed, value in (("--hidden", "8"), ("--max-tokens", "1200"), ("--batch-size", "4"), ("--epochs", "1")):
            case.options += [] if fixed in names else [fixed, value]
    for name in names:
        case.options += [name, draw(option_values(name))]
    if draw(st.booleans()):
        case.data = draw(st.sampled_from(FILE_KINDS))
    return case


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["cells", "metadata", "source"]), children)


class World:
    """A fresh folder holding the user's files, a home, a working folder and the generated files."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="djl-parity-props-"))
        self.home, self.work = self.root / "home", self.root / "home" / "work"
        (self.work / "userdir" / "sub").mkdir(parents=True)
        (self.work / "keep.txt").write_text("the user's file\n")
        (self.work / "userdir" / "thesis.txt").write_text("three years\n")
        (self.work / "userdir" / "sub" / "a.txt").write_text("notes\n")

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def file(self, kind: str, suffix: str) -> str:
        path = self.work / f"given{suffix}"
        if kind == "real":
            shutil.copy(resolve_data_file(), path)
        elif kind == "ours":
            shutil.copy(NOTEBOOK, path)
        elif kind.startswith(("cells:", "json:")):
            body = kind.split(":", 1)[1]
            cell = {"cell_type": "code", "source": body, "metadata": {}, "outputs": []}
            path.write_text(json.dumps({"cells": [cell], "metadata": {}}) if kind[0] == "c" else body)
        elif kind in ("text", "unreadable"):
            path.write_text("It was a dark and stormy night.\n" * 100)
            path.chmod(0o000 if kind == "unreadable" else 0o644)
        elif kind == "binary":
            path.write_bytes(bytes(range(256)) * 40)
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "huge":
            with open(path, "wb") as f:
                f.truncate(3 * 2**30)  # sparse: huge to read, nothing on disk
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "dangling":
            path.symlink_to(self.root / "nowhere")
        return str(path)

    def out(self, kind: str) -> str:
        fixed = {"cwd": ".", "parent": "..", "home": str(self.home), "root": "/", "user": "userdir"}
        if kind in fixed:
            return fixed[kind]
        if kind in ("marked", "marked+extra"):
            folder = self.work / "earlier"
            folder.mkdir()
            (folder / "report.json").write_text("{}")
            marker = {"schema": MARKER_SCHEMA, "command": ["djl-parity"], "run_id": "0", "files": ["report.json"]}
            (folder / MARKER).write_text(json.dumps(marker))
            if kind == "marked+extra":
                (folder / "mine.txt").write_text("a user's file")
            return "earlier"
        if kind in ("file", "under-file"):
            return "keep.txt" if kind == "file" else "keep.txt/sub"
        if kind == "link-to-user":
            (self.work / "link").symlink_to(self.work / "userdir")
            return "link"
        return {"new": "out", "nested": "a/b/out", "odd-name": "o u\u00e9t\nx"}[kind]


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st_ = p.lstat()
        if p.is_symlink() or not p.is_file():
            out[str(p.relative_to(root))] = (os.readlink(p) if p.is_symlink() else "dir", 0)
        elif st_.st_size > 2**20 or st_.st_mode & 0o777 == 0:
            out[str(p.relative_to(root))] = ("", st_.st_mtime_ns)
        else:
            out[str(p.relative_to(root))] = (p.read_bytes(), st_.st_mtime_ns)
    return out


def check(proc: subprocess.CompletedProcess, world: World, out: str, before: dict) -> None:
    assert proc.returncode in EXIT_CODES, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    if proc.returncode in (2, 3):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, proc.stderr
    out_path = Path(os.path.realpath(world.work / out))
    inside = str(out_path.relative_to(world.root)) if out_path.is_relative_to(world.root) else None
    after = snapshot(world.root)

    def outside(snap: dict) -> dict:
        return {k: v for k, v in snap.items() if inside is None or not (k == inside or k.startswith(inside + "/"))}

    made = {k for k in set(after) - set(before) if after[k] == ("dir", 0) and (inside or "").startswith(k + "/")}
    assert {k: v for k, v in outside(after).items() if k not in made} == outside(before), "outside --out changed"
    assert not made or proc.returncode in (0, 1, 4) and out_path.is_dir(), "folders made for a run that wrote nothing"
    assert not [k for k in after if ".staging-" in k or ".replaced-" in k], "a staging folder was left"
    if proc.returncode in (2, 3) or inside is None:
        assert after == before, "a refused run changed files"
    elif out_path.is_dir():
        marker = read_marker(out_path)
        assert marker is not None, "--out was written without its marker"
        assert sorted(os.listdir(out_path)) == sorted([*marker["files"], MARKER]), "a partial --out"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
@given(case=cases())
def test_every_generated_input_ends_documented_with_nothing_lost(case: Case):
    world = World()
    try:
        args = [*case.command]
        if case.notebook is not None:
            args.append(world.file(case.notebook, ".ipynb" if not case.notebook.startswith("text") else ".java"))
        args += case.options
        if case.data is not None:
            args += ["--data", world.file(case.data, ".txt")]
        out = world.out(case.out)
        args += ["--out", out]
        before = snapshot(world.root)
        env = {**os.environ, "HOME": str(world.home), "XDG_CACHE_HOME": str(_real_cache())}
        env["DJL_PARITY_DATA"] = str(resolve_data_file())
        proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=world.work, env=env)
        check(proc, world, out, before)
    finally:
        world.close()


def _real_cache() -> Path:
    from djl_bridge.data import cache_dir

    return cache_dir().parent
