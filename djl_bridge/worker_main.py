"""A worker process: our Java helpers on one DJL engine, in a JVM of its own. Never imports torch.

Started by ``sides/worker.py`` as ``python -m djl_bridge.worker_main FOLDER EVENT_FD``.
It reads the ``request`` message from FOLDER (format: ``sides/wire.py``), runs our Java helpers
(``jvm/helpers.py``) or a notebook (``notebook/executor.py``) on its engine, writes the ``response``
message there and reports on the event pipe EVENT_FD, one JSON object per line:

- ``{"event": "started", "pid", "engine", "djl", "engine_version", "native", "jvm_s", "request_s", "request_bytes"}``
- ``{"event": "epoch", "epoch", "perplexity", "speed"}`` after each epoch (with ``"memory": true`` in the
  request, also ``"rss_mib"`` and ``"java_heap_mib"``, measured as ``memory.py`` says)
- op ``notebook`` only: ``{"event": "cell", "cell", "origin", "line"}`` before each snippet runs,
  ``{"event": "output", "text"}`` (what a snippet printed),
  ``{"event": "running", "elapsed", "points": [[metric, epoch, value], ...]}`` every
  :data:`HEARTBEAT_S` seconds while the cells run (the animator's new points)
- ``{"event": "done", "response_s", "response_bytes"}``, or
- ``{"event": "error", "kind": "setup"|"input"|"java"|"internal", "message", "java_class", "stack"}``

Request body: ``{"op": "engine", "engine"}`` (start the engine, answer ``{}``) or
``{"op": "run", "engine", "request": trace.Request}``: our Java helpers (``jvm/helpers.py``) run it;
``{"op": "gradcheck", "engine", "model", "cases": [{"problem", "weights", "X", "Y", "state", "fd_seed"}]}``:
the Java side of the gradient checks (``gradcheck/java_side.py``), one answer per case.
``{"op": "notebook", "engine", "notebook": path, "utils": path or null, "patches": [name, ...],
"data": path, "data_files": {url: path}, "epochs": int or null, "seed": int, "record": int or null}``: the
notebook's cells run in JShell in this JVM (``notebook/executor.py``) while the recorder observes its
own training loops in DJL (``notebook/recorded.py``, ``record`` steps of each kept in full).
Response body: for ``run`` ``{"trace": trace.Trace, "torch_imported": bool}``; for ``notebook``
``{"result": notebook.result.NotebookResult, "torch_imported": bool}``; for ``gradcheck`` one answer per case.
Java's own prints go to the worker's stdout, never to the event pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

#: Seconds between the notebook op's "running" events (the parent's silence limit counts from each).
HEARTBEAT_S = 10.0
_EMIT_LOCK = threading.Lock()


def _emit(pipe: TextIO, event: str, **fields: Any) -> None:
    with _EMIT_LOCK:
        pipe.write(json.dumps({"event": event, **fields}) + "\n")
        pipe.flush()


def _serve(folder: Path, pipe: TextIO) -> None:
    from djl_bridge.config import ConfigError
    from djl_bridge.jvm import BridgeSetupError, JavaError
    from djl_bridge.jvm.runtime import start
    from djl_bridge.sides import wire

    t0 = time.perf_counter()
    request = wire.read(folder, "request")
    request_s = time.perf_counter() - t0
    request_bytes = (folder / "request.bin").stat().st_size
    try:
        info = start(request["engine"])
    except BridgeSetupError as exc:
        _emit(pipe, "error", kind="setup", message=str(exc))
        return
    except Exception as exc:  # the engine's native library did not load: a missing part of the environment
        _emit(pipe, "error", kind="setup", message=f"DJL's {request['engine']} engine did not start: {exc}")
        return
    _emit(
        pipe,
        "started",
        pid=os.getpid(),
        engine=info.engine,
        djl=info.djl_version,
        engine_version=info.engine_version,
        native=info.libtorch_dir,
        jvm_s=info.started_in_s,
        request_s=request_s,
        request_bytes=request_bytes,
    )

    if request["op"] == "engine":  # the engine started; nothing to run
        _emit(pipe, "done", response_s=0.0, response_bytes=wire.write(folder, "response", {}))
        return

    on_epoch = _epoch_events(pipe, bool(request.get("memory")))
    try:
        if request["op"] == "notebook":
            body = _notebook(request, lambda event, **f: _emit(pipe, event, **f))
        elif request["op"] == "run":
            body = _run(request, on_epoch)
        elif request["op"] == "gradcheck":
            body = _gradcheck(request)
        else:
            raise ValueError(f"unknown worker op {request['op']!r}")
    except JavaError as exc:
        _emit(pipe, "error", kind="java", message=exc.message, java_class=exc.java_class, stack=exc.stack_trace)
        return
    except (ConfigError, ValueError) as exc:
        _emit(pipe, "error", kind="input", message=str(exc))
        return
    t0 = time.perf_counter()
    size = wire.write(folder, "response", body)
    _emit(pipe, "done", response_s=time.perf_counter() - t0, response_bytes=size)


def _epoch_events(pipe, memory: bool) -> Callable[[int, float, float], None]:
    """The epoch callback: an "epoch" event, with this process's memory when ``memory`` (a soak's request)."""

    def on_epoch(epoch: int, ppl: float, speed: float) -> None:
        used = {}
        if memory:
            from djl_bridge.memory import java_heap_mib, rss_mib

            used = {"rss_mib": rss_mib(), "java_heap_mib": java_heap_mib()}
        _emit(pipe, "epoch", epoch=epoch, perplexity=ppl, speed=speed, **used)

    return on_epoch


def _run(request: dict, on_epoch) -> dict:
    from djl_bridge.jvm import helpers
    from djl_bridge.sides import wire
    from djl_bridge.trace import Request

    trace = helpers.run(wire.rebuild(Request, request["request"]), on_epoch)
    return {"trace": trace, "torch_imported": "torch" in sys.modules}


def _gradcheck(request: dict) -> dict:
    from djl_bridge.gradcheck.java_side import check
    from djl_bridge.gradcheck.problems import Problem
    from djl_bridge.sides import wire

    out = []
    for c in request["cases"]:
        problem = wire.rebuild(Problem, c["problem"])
        out.append(check(request["model"], problem, c["weights"], c["X"], c["Y"], c["state"], c["fd_seed"]))
    return out


@contextlib.contextmanager
def _heartbeat(emit: Callable[..., None]) -> Iterator[None]:
    """A "running" event every HEARTBEAT_S seconds, with the animator points recorded since the last one."""
    from djl_bridge.jvm import jclass
    from djl_bridge.notebook.executor import RECORDING

    stop, t0, sent = threading.Event(), time.perf_counter(), [0]

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            points = list(jclass(RECORDING).points())
            new = [[str(p.metric), float(p.epoch), float(p.value)] for p in points[sent[0] :]]
            sent[0] = len(points)
            emit("running", elapsed=time.perf_counter() - t0, points=new)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _notebook(request: dict, emit: Callable[..., None]) -> dict:
    from djl_bridge.notebook.executor import execute, result
    from djl_bridge.notebook.recorded import record
    from djl_bridge.notebook.session import planned

    if request["record"] is not None:  # the notebook's own loops, observed in DJL (None: no agent at all)
        record(int(request["record"]))
    plan, _diffs = planned(
        Path(request["notebook"]), Path(request["utils"]) if request["utils"] else None, request["patches"]
    )
    served = {url: Path(p) for url, p in request.get("data_files", {}).items()}
    with _heartbeat(emit):
        run = execute(
            plan,
            Path(request["data"]),
            request["epochs"],
            int(request["seed"]),
            lambda text: emit("output", text=text),
            served,
            lambda cell, origin, line: emit("cell", cell=cell, origin=origin, line=line),
        )
    try:
        return {"result": result(run, f"engine:{request['engine']}"), "torch_imported": "torch" in sys.modules}
    finally:
        run.close()


def main(argv: list[str]) -> int:
    folder, fd = Path(argv[0]), int(argv[1])
    with os.fdopen(fd, "w", encoding="utf-8") as pipe:
        try:
            _serve(folder, pipe)
        except Exception as exc:  # anything else: report it whole rather than die silently
            _emit(pipe, "error", kind="internal", message=f"{type(exc).__name__}: {exc}", stack=traceback.format_exc())
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
