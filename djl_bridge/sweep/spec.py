"""The sweep's TOML spec: job tables, each a matrix over its list-valued keys, read into one job per run.

A ``[[job]]`` table names a ``command`` (compare, notebook or train) and that command's options
under their command-line names (``max-tokens = 1200``, ``layout-fix = true``). A list value is
an axis of the matrix: the table stands for one job per combination of its axes. ``notebook``
paths are relative to ``root``; ``patch`` is one name or a list of names applied together (a
list of lists is an axis); ``config`` is a table of options, or a list of them (an axis, each
labelled by its ``name``). ``cpus`` and ``timeout`` (seconds) may be set at the top or per
table. The format is documented in docs/sweep.md.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

COMMANDS = ("compare", "notebook", "train")
DEFAULT_CPUS = 1
DEFAULT_TIMEOUT_S = 4 * 3600.0

_TOP_KEYS = ("root", "cpus", "timeout", "job")
_JOB_KEYS = ("command", "name", "cpus", "timeout")  # a table's own keys; every other key is a command option
_RESERVED = {
    "out": "the sweep gives every job its own --out inside the sweep folder",
    "data": "the sweep's own --data applies to every job",
    "help": "a job runs its command",
}

#: parses a command's arguments as the command itself would (nothing runs): its parameters, or ValueError
Check = Callable[[str, list[str]], dict]
_Scalar = str | int | float | bool


class SpecError(ValueError):
    """The spec is not a valid sweep: one line naming the file, the job table and what is wrong."""


@dataclass(frozen=True)
class Job:
    """One run of the matrix: exactly the command a user could run alone, less its --out and --data."""

    name: str
    command: str
    args: tuple[str, ...]
    cpus: int
    timeout_s: float
    subject: str  # the notebook (as written in the spec) or the model
    engine: str
    labels: tuple[tuple[str, str], ...]  # the matrix values that set this job apart from its table's others
    notebook: Path | None = None


@dataclass(frozen=True)
class Spec:
    path: Path
    root: Path
    jobs: tuple[Job, ...]


def load_spec(path: Path, check: Check) -> Spec:
    """Read and validate the spec at ``path``; every job's arguments are parsed by ``check``."""
    doc = _read_toml(path)
    for key in doc:
        if key not in _TOP_KEYS:
            raise SpecError(f"{path}: unknown top-level key {key!r}; expected {', '.join(_TOP_KEYS)}")
    root = (path.parent / Path(str(doc.get("root", "."))).expanduser()).resolve()
    cpus = _positive(doc, "cpus", DEFAULT_CPUS, int, str(path))
    timeout = _positive(doc, "timeout", DEFAULT_TIMEOUT_S, (int, float), str(path))
    tables = doc.get("job")
    if not isinstance(tables, list) or not tables:
        raise SpecError(f"{path}: no [[job]] table; a sweep needs at least one")
    jobs: list[Job] = []
    for i, table in enumerate(tables, 1):
        where = f"{path}: job {i}"
        jobs += _expand(table, where, root, cpus, float(timeout), check)
    return Spec(path, root, tuple(_unique(jobs, path)))


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a folder, not a TOML spec") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None


def _positive(table: dict, key: str, default, kind, where: str):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise SpecError(f"{where}: {key} must be a positive number, got {value!r}")
    return value


def _axes(options: dict, where: str) -> tuple[dict, list[tuple[str, list]]]:
    """The table's fixed options and its axes (key, values), in the order written."""
    fixed: dict = {}
    axes: list[tuple[str, list]] = []
    for key, value in options.items():
        if key == "patch":
            value = [value] if isinstance(value, str) else value
            if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
                axes.append((key, value))
            else:
                fixed[key] = value
        elif isinstance(value, list):
            if not value:
                raise SpecError(f"{where}: {key} is an empty list")
            axes.append((key, value))
        else:
            fixed[key] = value
    return fixed, axes


def _expand(table: object, where: str, root: Path, cpus: int, timeout: float, check: Check) -> list[Job]:
    """The jobs of one table: one per combination of its axes."""
    if not isinstance(table, dict):
        raise SpecError(f"{where}: a job must be a table")
    command = table.get("command")
    if command not in COMMANDS:
        raise SpecError(f"{where}: command must be one of {', '.join(COMMANDS)}, got {command!r}")
    for key, why in _RESERVED.items():
        if key in table:
            raise SpecError(f"{where}: {key!r} cannot be set in a spec ({why})")
    cpus = _positive(table, "cpus", cpus, int, where)
    timeout = float(_positive(table, "timeout", timeout, (int, float), where))
    fixed, axes = _axes({k: v for k, v in table.items() if k not in _JOB_KEYS}, where)
    prefix = str(table.get("name", command))
    jobs = []
    for combo in itertools.product(*(values for _, values in axes)):
        chosen = dict(zip((k for k, _ in axes), combo))
        options = _merged({**fixed, **chosen}, where)
        written = options.pop("notebook", None)
        notebook = _notebook(command, written, root, where)
        argv = ([str(notebook)] if notebook else []) + _arguments(options, where)
        try:
            params = check(command, argv)
        except ValueError as exc:
            raise SpecError(f"{where} ({command}): {exc}") from None
        labels = tuple((k, _label(k, v)) for k, v in chosen.items())
        named = [_label(k, v) for k, v in (("notebook", written), ("model", options.get("model"))) if v is not None]
        named += [_label(k, v) for k, v in {**fixed, **chosen}.items() if k == "engine" or k in chosen]
        subject = str(written) if notebook else str(params.get("model", ""))
        name = _slug("-".join(dict.fromkeys([prefix, *named])))
        jobs.append(Job(name, command, tuple(argv), cpus, timeout, subject, str(params["engine"]), labels, notebook))
    return jobs


def _merged(options: dict, where: str) -> dict:
    """``options`` with its ``config`` table's options merged in (a key set in both is an error)."""
    config = options.pop("config", {})
    if not isinstance(config, dict):
        raise SpecError(f"{where}: config must be a table of options, or a list of them")
    for key, value in config.items():
        if key == "name":
            continue
        if key in options or key in _JOB_KEYS or key in _RESERVED:
            raise SpecError(f"{where}: {key!r} is set both in the job and in its config {config.get('name', '')!r}")
        options[key] = value
    return options


def _notebook(command: str, value: object, root: Path, where: str) -> Path | None:
    if command != "notebook":
        if value is not None:
            raise SpecError(f"{where}: notebook is for the notebook command, not {command}")
        return None
    if not isinstance(value, str):
        raise SpecError(f"{where}: the notebook command needs notebook = PATH (relative to root {root})")
    path = (root / Path(value).expanduser()).resolve()
    if not path.is_file():
        raise SpecError(f"{where}: notebook {value} does not exist (looked for {path})")
    return path


def _arguments(options: dict, where: str) -> list[str]:
    """Command-line arguments for ``options``: ``--key value``, a flag for true, nothing for false."""
    argv: list[str] = []
    for key, value in options.items():
        values = value if key == "patch" else [value]
        for v in values:
            if not isinstance(v, _Scalar):
                raise SpecError(f"{where}: {key} must be a string, number or boolean, got {v!r}")
            if v is True:
                argv.append(f"--{key}")
            elif v is not False:
                argv += [f"--{key}", str(v)]
    return argv


def _label(key: str, value: object) -> str:
    if key == "notebook":
        return Path(str(value)).stem
    if key == "patch":
        return "+".join(value) or "unpatched"
    if key == "config":
        return str(value.get("name") or ",".join(f"{k}={v}" for k, v in value.items()))
    if key in ("model", "engine"):
        return str(value)
    return f"{key}{value}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+_=,-]+", "-", text).strip("-.") or "job"


def _unique(jobs: list[Job], path: Path) -> list[Job]:
    """Refuse two jobs that are the same run; give jobs that share a name a numbered suffix."""
    runs: dict[tuple, str] = {}
    names: dict[str, int] = {}
    out = []
    for job in jobs:
        run = (job.command, job.args, job.cpus)
        if run in runs:
            raise SpecError(f"{path}: {job.name} and {runs[run]} are the same run ({job.command} {' '.join(job.args)})")
        n = names[job.name] = names.get(job.name, 0) + 1
        named = job if n == 1 else dataclasses.replace(job, name=f"{job.name}-{n}")
        runs[run] = named.name
        out.append(named)
    return out
