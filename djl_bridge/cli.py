"""The `djl-parity` command line: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from djl_bridge import __version__


def one_line(message: str) -> str:
    """A message as one line: its non-blank lines joined by " | " (an error is one line on stderr)."""
    return " | ".join(ln.strip() for ln in message.splitlines() if ln.strip())


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class SetupFailure(click.ClickException):
    """A missing or broken part of the environment: one line on stderr, exit code 3."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def data_option(help: str = "The Time Machine text [$DJL_PARITY_DATA, cache, download]."):
    """The one ``--data`` option: the text file, checked by the data resolver."""
    return click.option("--data", type=click.Path(dir_okay=False), default=None, help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="djl-parity")
def cli() -> None:
    """Run D2L's Java bi-RNN notebook on PyTorch and on real DJL, and compare them number by number.

    \b
    Typical use:
      djl-parity setup            build the Java side (Maven), seconds when up to date
      djl-parity doctor           check Python, torch, Java, DJL, libtorch and the data file
      djl-parity train --impl python|djl   run the notebook on one side
      djl-parity compare          run both sides from the same start and report the differences
      djl-parity gradcheck        check a scratch model's gradients (hand, autograd, finite differences)
      djl-parity notebook PATH    run a d2l-java notebook unchanged in JShell and compare it
      djl-parity bench            training speed: baseline, the port, DJL, in one run
      djl-parity sweep SPEC       a TOML matrix of the commands above as Ray tasks, with one index

    \b
    Exit codes:
      0    success (compare: PASS)
      1    compare: FAIL (a stage differs beyond its bound, or without a named cause);
           train: the Java side failed (its root cause is printed);
           gradcheck: a gradient error above its threshold
      2    bad input: one line on stderr, nothing written
      3    a missing or broken part of the environment (Java, the Maven build, an engine library)
      4    compare: INCOMPLETE (some stage could not be compared; the headline says which and how)
      130  interrupted by Ctrl-C (SIGINT); 143: terminated (SIGTERM); nothing written
    """


@cli.command()
@click.option("--force", is_flag=True, help="Rebuild even when the jar is up to date.")
@click.option("--verbose", is_flag=True, help="Show Maven's output.")
def setup(force: bool, verbose: bool) -> None:
    """Build the Java side (java/) with Maven; a no-op when nothing changed."""
    from djl_bridge.jvm.build import build
    from djl_bridge.jvm.runtime import BridgeSetupError, java_dir

    try:
        ran = build(force=force, quiet=not verbose)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    click.echo(f"java side {'built' if ran else 'up to date'}: {java_dir() / 'target'}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@data_option("Text file to check instead of the usual resolution (DJL_PARITY_DATA, cache).")
def doctor(as_json: bool, data: str | None) -> None:
    """Check every part the tool needs; exit 3 when a required one is missing."""
    from djl_bridge import doctor as doc

    checks = doc.run_checks(data)
    report = doc.as_json(checks)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for c in checks:
            mark = "ok  " if c.ok else ("FAIL" if c.required else "--  ")
            click.echo(f"{mark} {c.name:<15} {c.detail}")
        click.echo("all required parts present" if report["ok"] else "some required parts are missing")
    sys.exit(0 if report["ok"] else 3)


def run_options(epochs: int):
    """The options that describe one notebook run (shared by `train` and `compare`), ``epochs`` by default."""
    return lambda f: _run_options(f, epochs)


def _run_options(f, epochs: int):
    from djl_bridge.config import MODELS

    opts = [
        click.option(
            "--model",
            type=click.Choice(MODELS),
            default="bilstm",
            show_default=True,
            help="Recurrent model; bilstm is the bi-RNN notebook's, the others its siblings'.",
        ),
        click.option("--epochs", type=int, default=epochs, show_default=True, help="Training epochs."),
        click.option("--lr", type=int, default=None, help="Learning rate, an int as in trainCh8 [model's notebook]."),
        click.option("--hidden", type=int, default=None, help="Hidden units [256; rnn-scratch 512]."),
        click.option("--layers", type=int, default=None, help="Recurrent layers [bilstm, deep-lstm 2; others 1]."),
        click.option("--batch-size", type=int, default=32, show_default=True),
        click.option("--num-steps", type=int, default=35, show_default=True, help="Time steps per window."),
        click.option(
            "--max-tokens",
            type=int,
            default=10000,
            show_default=True,
            help="Corpus tokens used (the first N characters).",
        ),
        click.option(
            "--offset",
            type=int,
            default=None,
            help="Dataset offset in [0, num-steps) [random: seeded in Python, unseeded in Java].",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Python side's generators."),
        click.option("--random-iter", is_flag=True, help="Random sampling instead of the notebook's sequential."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True),
        click.option(
            "--mode",
            type=click.Choice(["parity", "fast"]),
            default="parity",
            show_default=True,
            help="Python side: DJL's exact op sequence, or the fastest PyTorch form of the same maths.",
        ),
        click.option(
            "--layout-fix",
            is_flag=True,
            help="Java side: run bidirectional LSTMs through the layout-corrected block "
            "(a documented deviation; without it DJL fails as published).",
        ),
        click.option("--bias", is_flag=True, help="birnn-hand: add the biases b_h, b_r, b_q."),
        click.option(
            "--learn-boundary",
            is_flag=True,
            help="birnn-hand: learn the boundary states h_0 and g_T+1 (from 0.5), not the constant 0.5.",
        ),
        data_option(),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _config(kwargs: dict, sides: int = 2):
    """The run's config, validated against the text and the memory of ``sides`` sides (exit 2 on bad input),
    and the text's path."""
    from djl_bridge.config import ConfigError, RunConfig, validated
    from djl_bridge.data import DataError, resolve_data_file

    data = kwargs.pop("data")
    try:
        path = resolve_data_file(data)
        cfg = validated(RunConfig(**kwargs), path, sides)
        if cfg.device == "cuda":
            from djl_bridge.device import resolve_device

            resolve_device("cuda")
        return cfg, path
    except (ConfigError, DataError) as exc:
        raise InputError(str(exc)) from None


def _checked_ints(*checks: tuple[str, int, int]) -> None:
    """Options outside a run's config, each (option, value, lowest allowed) up to a Java int; exit 2 otherwise."""
    from djl_bridge.config import ConfigError, check_int

    try:
        for option, value, low in checks:
            check_int(option, value, low)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def _out_dir(out: str):
    from pathlib import Path

    from djl_bridge.outputs import OutputDirError, check_out_dir

    try:
        check_out_dir(Path(out))
    except OutputDirError as exc:
        raise InputError(str(exc)) from None
    return Path(out)


class _EpochProgress:
    """Per-epoch progress on stderr: a bar on a terminal, one line per epoch in a log (stderr not a tty)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.bar = total, label, None
        self.tty = sys.stderr.isatty()

    def __call__(self, epoch: int, ppl: float, speed: float) -> None:
        status = f"ppl {ppl:.2f}  {speed:,.0f} tok/s"
        if not self.tty:
            click.echo(f"{self.label.strip()}: epoch {epoch}/{self.total}  {status}", err=True)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=self.total, label=self.label, file=sys.stderr, show_pos=True, item_show_func=lambda s: s
            )
            self.bar.__enter__()
        self.bar.update(1, status)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def engine_option(default: str):
    """`--engine`: which DJL engine the Java side runs on (djl_bridge/jvm/engines.py), ``default`` by default."""
    from djl_bridge.jvm.engines import ENGINES

    return click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default=default,
        show_default=True,
        help="Java side's DJL engine, in a worker process: mxnet (DJL 0.23 + MXNet 1.9, the notebook as "
        "published), pytorch (DJL 0.35.1 on this environment's own libtorch 2.7.1, the port's) or pytorch-native "
        "(DJL 0.35.1 on DJL's libtorch build). With --impl python, mxnet makes the port reproduce MXNet's behaviours.",
    )


@cli.command()
@click.option(
    "--impl",
    type=click.Choice(["python", "djl"]),
    required=True,
    help="python: the PyTorch port; djl: the Java helpers on real DJL through JPype.",
)
@engine_option("pytorch")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="runs/train",
    show_default=True,
    help="Folder for metrics.json and perplexity.png.",
)
@run_options(epochs=500)
def train(impl: str, engine: str, out: str, **kwargs) -> None:
    """Train the notebook's model on one side and print the notebook's final lines.

    Writes OUT/metrics.json (config, per-epoch perplexity and tokens/s, every step's loss,
    vocabulary, offset, the printed lines) and OUT/perplexity.png (the animator's curve), whole or
    not at all. The Java side runs in a worker process on the chosen engine.
    """
    from djl_bridge.flows.train import train as run_train
    from djl_bridge.flows.train import write_run

    cfg, data = _config(kwargs, sides=1)
    if engine == "mxnet" and cfg.layout_fix:
        raise InputError("--layout-fix is for DJL's PyTorch engines; on MXNet the notebook's bi-LSTM runs as published")
    out_dir = _out_dir(out)
    if impl == "djl":
        _preflight(engine)
    progress = _EpochProgress(cfg.epochs, f"{impl} {cfg.model}" + (f" ({engine})" if engine != "pytorch" else ""))
    with _side_errors(), _closing(progress):
        trace = run_train(impl, engine, cfg, data, progress)
    if trace.failure is not None:
        raise click.ClickException(f"the Java side failed: {_failure_line(trace.failure, engine)}")
    for line in trace.printed:
        click.echo(line)
    for dev in trace.deviations:
        click.echo(f"deviation: {dev}", err=True)
    write_run(impl, cfg, trace, out_dir)
    click.echo(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'perplexity.png'}", err=True)


def _failure_line(failure, engine: str) -> str:
    """A Java failure's root cause, with the registered cause it matches."""
    from djl_bridge.parity.divergences import failure_cause

    known = failure_cause(*failure.root(), failure.stack_trace, "parity" if engine == "pytorch" else f"engine:{engine}")
    return failure.root_cause() + (f" [known divergence {known.name}: {known.cause}]" if known else "")


def _preflight(engine: str) -> None:
    """The Java side's parts (JDK, the Maven build of ``engine``, its libtorch) checked before any work: exit 3."""
    from djl_bridge.jvm.runtime import BridgeSetupError, preflight

    try:
        preflight(engine)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None


@contextlib.contextmanager
def _side_errors():
    """A side's errors as exit codes: bad input 2, a missing or broken environment (a worker that cannot
    start its engine, crashes or hangs) 3."""
    from djl_bridge.config import ConfigError
    from djl_bridge.jvm.runtime import BridgeSetupError

    try:
        yield
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None


@contextlib.contextmanager
def _closing(*bars):
    try:
        yield
    finally:
        for bar in bars:
            bar.close()


@cli.command()
@click.option(
    "--init",
    type=click.Choice(["java", "python"]),
    default="java",
    show_default=True,
    help="Side whose initial weights are drawn and moved exactly to the other.",
)
@click.option(
    "--full-steps",
    type=int,
    default=1,
    show_default=True,
    help="Steps recorded in full (logits, state, gradients, parameters); every step's loss and gradient norms are "
    "always compared.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="runs/compare",
    show_default=True,
    help="Folder for report.json, report.md and report.html.",
)
@click.option(
    "--concurrent",
    is_flag=True,
    help="Train the two sides at once (two processes), each with half the CPU threads.",
)
@engine_option("mxnet")
@run_options(epochs=5)
def compare(init: str, full_steps: int, out: str, concurrent: bool, engine: str, **kwargs) -> None:
    """Run the notebook on DJL and on the PyTorch port from one start; compare every stage.

    \b
    By default: the notebook cell as its readers ran it (the bi-LSTM on DJL 0.23 + MXNet 1.9), 5
    epochs. Stages: cleaned lines, tokens, vocabulary, corpus, batches, initial parameters, the
    first step in full (logits, state, loss, gradients, gradient norm, clipped gradients, updated
    parameters), every step's loss, gradient norm and per-parameter squared gradient sums, every
    epoch's perplexity, the final parameters, the printed perplexity and the two predictions. On
    one engine every float stage must be identical unless a named cause bounds it
    (djl_bridge/parity/divergences.py); across engines each is judged against this run's own
    envelope (the port against itself from last-bit-nudged weights and in fast mode).

    \b
    Outcome (the last line, and `outcome` in report.json):
      PASS        every stage compared: identical, within a measured bound, or explained (exit 0)
      FAIL        a stage differs beyond its bound or without a named cause (exit 1)
      INCOMPLETE  some stage could not be compared; the line names them, why, and the option
                  that compares them (exit 4)
    Both sides run on the CPU; the Java side in a worker process. OUT is replaced whole at the end.
    """
    from djl_bridge.flows.compare import compare as run_compare
    from djl_bridge.parity.render import write_report

    _checked_ints(("--full-steps", full_steps, 0))
    cfg, data = _config(kwargs)
    out_dir = _out_dir(out)
    _preflight(engine)
    bars: dict[str, _EpochProgress] = {}

    def epoch_done(side: str, epoch: int, ppl: float, speed: float) -> None:
        if concurrent:  # two sides report at once: one line each, no bars to overwrite each other
            click.echo(f"  {side} epoch {epoch}/{cfg.epochs}  ppl {ppl:.2f}  {speed:,.0f} tok/s", err=True)
            return
        bars.setdefault(side, _EpochProgress(cfg.epochs, f"  {side}"))(epoch, ppl, speed)
        if epoch == cfg.epochs:
            bars[side].close()

    say = lambda m: click.echo(m, err=True)  # noqa: E731
    with _side_errors(), _closing(*bars.values()):
        report = run_compare(cfg, data, engine, init, full_steps, concurrent, say, epoch_done)
    _print_table(report)
    write_report(report, out_dir)
    click.echo(f"report: {out_dir / 'report.html'} (also report.md, report.json)")
    sys.exit(report.exit_code)


def _print_table(report) -> None:
    """The stage table and the verdict line on stdout."""
    from djl_bridge.parity.render import stage_rows

    rows = stage_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    click.echo(report.verdict())


@cli.command()
@click.option(
    "--model",
    type=click.Choice(["birnn-hand", "rnn-scratch", "gru-scratch", "lstm-scratch"]),
    default="birnn-hand",
    show_default=True,
)
@click.option("--side", type=click.Choice(["both", "python", "java"]), default="both", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random problems.")
def gradcheck(model: str, side: str, seed: int) -> None:
    """Check a scratch model's training gradients in float64 on random small problems.

    \b
    birnn-hand: hand-derived gradients against autograd (PyTorch; DJL's GradientCollector).
    rnn/gru/lstm-scratch: DJL's GradientCollector against PyTorch autograd on the port.
    All: central finite differences at a few entries of every parameter, on each side.
    Prints the worst relative error per parameter; exit 1 when one exceeds its threshold.
    """
    from djl_bridge.gradcheck import problems as gc_problems
    from djl_bridge.gradcheck import run as gc
    from djl_bridge.jvm import BridgeSetupError

    _checked_ints(("--seed", seed, 0))
    sides = gc_problems.SIDES if side == "both" else (side,)
    try:
        rows = gc.run(model, seed, sides)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    click.echo(f"gradcheck {model}: float64, random problems (seed {seed}), {' and '.join(sides)}")
    for line in gc.table(rows):
        click.echo(line)
    click.echo(gc.verdict(rows))
    sys.exit(0 if all(r.ok for r in rows) else 1)


@cli.command()
@click.option("--epochs", type=int, default=4, show_default=True, help="Measured epochs per row, after the warm-up.")
@click.option("--warmup", type=int, default=1, show_default=True, help="Epochs per row not counted.")
@click.option("--hidden", type=int, default=256, show_default=True)
@click.option("--layers", type=int, default=2, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--num-steps", type=int, default=35, show_default=True)
@click.option("--max-tokens", type=int, default=10000, show_default=True)
@click.option(
    "--rows",
    default=None,
    help="Comma-separated rows to run [all: baseline, python-parity, python-fast, djl-pytorch, djl-mxnet; "
    "baseline-cuda, python-parity-cuda, python-fast-cuda where CUDA is present].",
)
@click.option(
    "--sides",
    is_flag=True,
    help="Also time compare's two sides one after the other and concurrently "
    "(rows sides-sequential, sides-concurrent).",
)
@click.option("--no-interleave", is_flag=True, help="Run each row's epochs together instead of round by round.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write a bar chart (PNG) here.")
@click.option(
    "--profile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also profile one epoch of python-fast (torch.profiler) and draw where its time goes here (PNG).",
)
@data_option()
def bench(
    epochs: int,
    warmup: int,
    hidden: int,
    layers: int,
    batch_size: int,
    num_steps: int,
    max_tokens: int,
    rows: str | None,
    sides: bool,
    no_interleave: bool,
    as_json: bool,
    plot: str | None,
    profile: str | None,
    data: str | None,
) -> None:
    """Training speed of the baseline, the port, DJL (CPU, and CUDA when present) in one run.

    \b
    Every row trains the notebook's bi-LSTM from the same data; rows in this process take turns
    epoch by epoch. Reports the median tokens/s after the warm-up, ratios between rows, each row's
    share of the fp32 matmul peak measured in the same run, JVM start and numpy <-> NDArray
    copy speeds. Progress goes to stderr.
    """
    from pathlib import Path

    from djl_bridge.bench import report as b_report
    from djl_bridge.bench.rows import select_rows
    from djl_bridge.bench.run import run_bench

    _checked_ints(("--epochs", epochs, 1), ("--warmup", warmup, 0))
    try:
        selected = select_rows(rows.split(",") if rows else None, sides)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    cfg, data_file = _config(
        dict(
            model="bilstm",
            epochs=epochs,
            hidden=hidden,
            layers=layers,
            batch_size=batch_size,
            num_steps=num_steps,
            max_tokens=max_tokens,
            offset=0,
            data=data,
        )
    )
    from djl_bridge.outputs import OutputDirError, check_png_path

    try:
        for flag, path in (("--plot", plot), ("--profile", profile)):
            if path is not None:
                check_png_path(Path(path), flag)
    except OutputDirError as exc:
        raise InputError(str(exc)) from None
    try:
        result = run_bench(
            cfg,
            data_file,
            selected,
            epochs,
            warmup,
            not no_interleave,
            say=lambda m: click.echo(m, err=True),
            profile=profile and Path(profile),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in b_report.table(result):
            click.echo(line)
    if plot is not None:
        b_report.plot(result, Path(plot))
        click.echo(f"wrote {plot}", err=True)


def main() -> None:
    """The `djl-parity` program: the commands above, with interrupts and exit codes scripts can trust."""
    import os

    from djl_bridge.concurrency import passive_openmp_waits
    from djl_bridge.data import cache_dir
    from djl_bridge.signals import Interrupted, install

    passive_openmp_waits()
    os.environ.setdefault("MPLCONFIGDIR", str(cache_dir() / "matplotlib"))  # not ~/.config: nothing outside --out
    interrupts = install()
    code: int | str | None = 0
    try:
        cli.main(prog_name="djl-parity", standalone_mode=False)
    except click.UsageError as exc:  # one line, as every other bad input
        where = exc.ctx.command_path if exc.ctx is not None else "djl-parity"
        click.echo(f"Error: {one_line(exc.format_message())} (see '{where} --help')", err=True)
        code = exc.exit_code
    except click.ClickException as exc:
        if not interrupts.received:
            exc.show()
            code = exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.Abort:
        code = 1
    except SystemExit as exc:
        code = exc.code
    except Interrupted:
        pass
    except Exception:
        if not interrupts.received:
            raise
    if interrupts.received:
        # a Java call may have turned the interrupt into its own exception: the signal decides
        sys.stdout.flush()
        sys.stderr.write(f"djl-parity: stopped by {interrupts.name}; no output was written\n")
        sys.stderr.flush()
        os._exit(interrupts.exit_code)  # not the JVM's exit sequence: nothing runs under DJL's shutdown hook
    sys.exit(code)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--engine",
    type=click.Choice(["auto", "pytorch", "mxnet"]),
    default="auto",
    show_default=True,
    help="Engine side: auto picks what the notebook's %maven lines pin (DJL 0.23 + MXNet: mxnet).",
)
@click.option(
    "--utils",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the helpers the cells %load (default: resolved beside the notebook).",
)
@click.option("--epochs", type=int, default=None, help="MAX_EPOCH for the notebook [its own default].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds DJL's engine before the first cell.")
@click.option(
    "--patch",
    "patches",
    multiple=True,
    metavar="NAME",
    help="Apply a documented source patch (keep-stop-gradient, bilstm-layout, rnn-activation); repeatable.",
)
@click.option("--no-compare", is_flag=True, help="Only run the notebook.")
@data_option("The Time Machine text served for the notebook's data URL [$DJL_PARITY_DATA, cache, download].")
@click.option(
    "--data-file",
    "data_files",
    multiple=True,
    metavar="URL=PATH",
    help="Serve PATH for the D2L data URL the notebook opens (checked by SHA-1; e.g. fra-eng.zip); repeatable.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="runs/notebook",
    show_default=True,
    help="Folder for report.json, report.md, report.html, notebook.json, perplexity.png and figure-CELL-N.png.",
)
def notebook(
    path: str,
    engine: str,
    utils: str | None,
    epochs: int | None,
    seed: int,
    patches: tuple[str, ...],
    no_compare: bool,
    data: str | None,
    data_files: tuple[str, ...],
    out: str,
) -> None:
    """Run a d2l-java notebook (.ipynb, or a .java/.jsh cell file) unchanged in JShell, then compare it with the port.

    \b
    The cells run in order in the Java side's JVM: %load lines are resolved, %maven and
    %%loadFromPOM artifacts other than DJL's are resolved by Maven (cached) onto the shell's class
    path, the kernel's display is stood in for (every figure shown is kept and drawn), the D2L
    data URLs are served from verified local files, MAX_EPOCH comes from --epochs. A failing cell
    is reported at its cell and line, with its named cause when it is a known failure.

    Exit codes: 0 PASS (or the notebook ran, with --no-compare); 1 FAIL, or the notebook failed
    without a known cause (with --no-compare: failed at all); 2 bad notebook or input; 3 missing
    environment (an artifact Maven cannot resolve, a data URL not served); 4 INCOMPLETE (the
    notebook fails by a known cause, whose --patch is named, or a stage could not be compared).
    """
    from pathlib import Path

    from djl_bridge.config import JAVA_INT_MIN
    from djl_bridge.data import DataError, resolve_data_file, supplied_data_file
    from djl_bridge.jvm import BridgeSetupError
    from djl_bridge.notebook.cells import NotebookError
    from djl_bridge.notebook.resolve import DependencyError
    from djl_bridge.notebook.session import prepare
    from djl_bridge.outputs import OutputDirError, check_out_dir

    _checked_ints(("--seed", seed, JAVA_INT_MIN), *([("--epochs", epochs, 1)] if epochs is not None else []))
    try:
        served = dict(supplied_data_file(option) for option in data_files)
        prepared = prepare(Path(path), engine, Path(utils) if utils else None, list(patches), not no_compare)
        data_file = resolve_data_file(data)
        check_out_dir(Path(out))
    except (NotebookError, DataError, OutputDirError) as exc:
        raise InputError(str(exc)) from None
    except DependencyError as exc:
        raise SetupFailure(str(exc)) from None
    for note in prepared.notes:
        click.echo(f"note: {note}", err=True)
    for diff in prepared.diffs:
        click.echo(diff, err=True, nl=False)
    try:
        result = run_notebook(prepared, data_file, epochs, seed, not no_compare, Path(out), served)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    sys.exit(result)


def _notebook_event(event: dict) -> None:
    """A worker's notebook event on the terminal: cell output as printed, progress on stderr."""
    kind = event.get("event")
    if kind == "started":
        click.echo(f"{event['engine']} worker ready (DJL {event['djl']}); running the cells ...", err=True)
    elif kind == "output":
        click.echo(event["text"], nl=False)
    elif kind == "running":
        for metric, epoch, value in event["points"]:
            click.echo(f"  animator: epoch {epoch:g}  {metric} {value:.4g}", err=True)
    elif kind == "replay":
        click.echo(f"replaying cell {event['cell']}'s trainCh8 with our helpers from the same seed ...", err=True)


def run_notebook(prepared, data_file, epochs, seed, compare_it: bool, out, served=None) -> int:
    """Execute on the notebook's engine side, report the failure or compare, write the outputs; the exit code."""
    from djl_bridge.data import unserved
    from djl_bridge.notebook.cells import where
    from djl_bridge.notebook.compare import compare_run
    from djl_bridge.notebook.outputs import write_notebook_outputs
    from djl_bridge.notebook.session import diagnose_failure, execute_on_side
    from djl_bridge.parity.report import stage_rows

    done = execute_on_side(prepared, data_file, epochs, seed, compare_it, _notebook_event, served)
    run = done.run
    diagnose_failure(run)
    try:
        if run.failure is not None and run.failure.kind in ("compile", "incomplete", "unresolved"):
            raise InputError(run.failure.one_line())  # the notebook's code is not valid Java: bad input
        if run.failure is not None and run.refused:  # a data file the run does not have: the environment
            f = run.failure
            raise SetupFailure(f"{where(f.cell, f.origin, f.line)}: {unserved(run.refused[0])}")
        if run.failure is not None:
            click.echo(f"error: {run.failure.one_line()}", err=True)
        if not compare_it:
            write_notebook_outputs(run, None, prepared, out)
            return 1 if run.failure else 0
        click.echo("comparing with the PyTorch port ...", err=True)
        deviations = prepared.notes + prepared.diffs
        report = compare_run(run, data_file, seed, done.environment, deviations, prepared.engine, done.replays)
    finally:
        run.close()
    rows = stage_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    click.echo(report.verdict())
    write_notebook_outputs(run, report, prepared, out)
    click.echo(f"report: {out / 'report.html'} (also report.md, report.json, notebook.json)")
    return report.exit_code


def _parse_job(command: str, argv: list[str]) -> dict:
    """A sweep job's arguments parsed by its command, nothing run: the parameters with their defaults."""
    try:
        with cli.commands[command].make_context(command, list(argv)) as ctx:
            return dict(ctx.params)
    except click.ClickException as exc:
        raise ValueError(exc.format_message()) from None


def _rerun_option(f):
    from djl_bridge.sweep.outcomes import INTERRUPTED, SEVERITY

    choices = [o for o in SEVERITY if o != INTERRUPTED]
    return click.option(
        "--rerun",
        multiple=True,
        type=click.Choice(choices),
        metavar="OUTCOME",
        help=f"Run again the jobs whose recorded outcome is OUTCOME ({', '.join(choices)}); repeatable.",
    )(f)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Sweep folder; a re-run into it resumes  [default: runs/sweep/SPEC-NAME]",
)
@click.option(
    "--address",
    default=None,
    help="Run on this existing Ray cluster (its head's HOST:PORT, as `ray start --head` prints it, or auto) "
    "instead of a local Ray instance the command starts and stops.",
)
@click.option(
    "--cpus",
    type=click.IntRange(min=1),
    default=None,
    help="CPUs of the local Ray instance  [default: all of this machine's]",
)
@_rerun_option
@click.option(
    "--list", "list_only", is_flag=True, help="Print each job's command line, as the sweep runs it; run nothing."
)
@data_option("The Time Machine text every job reads [$DJL_PARITY_DATA, cache, download].")
def sweep(
    spec: str, out: str | None, address: str | None, cpus: int | None, rerun: tuple[str, ...], list_only: bool, data
):
    """Run a TOML matrix of compare, notebook and train jobs as Ray tasks, resumably, into one index.

    \b
    Each job is the command a user could run alone, in its own process group with its own
    folder OUT/jobs/NAME, and declares its CPU threads (the spec's cpus, default 1) to Ray. A
    finished job's result is kept at once; a re-run skips every job whose inputs (spec entry,
    code version, data SHA-1) have one. A crashed or timed-out job is run once more.
    Writes OUT/sweep.json and OUT/sweep.html. The spec's format: docs/sweep.md.

    \b
    Job outcomes, least to most severe, and the sweep's exit code when it is the worst:
      PASS 0, INCOMPLETE 4, FAIL 1, BAD-INPUT 2, ENV-MISSING 3, TIMED-OUT 5, CRASHED 6
    Also: 2 bad spec or --out, 3 Ray missing or unreachable, 130/143 interrupted (the finished
    jobs' results and the index are kept; the same command resumes).
    """
    import os
    from pathlib import Path

    from djl_bridge.data import DataError, resolve_data_file
    from djl_bridge.signals import Interrupted
    from djl_bridge.sweep.folder import FolderError
    from djl_bridge.sweep.index import headline
    from djl_bridge.sweep.ray_runner import RayUnavailable, require_ray
    from djl_bridge.sweep.run import Options, command_lines, run_sweep
    from djl_bridge.sweep.spec import SpecError, load_spec

    out_dir = Path(out) if out else Path("runs", "sweep", Path(spec).stem)
    try:
        loaded = load_spec(Path(spec), _parse_job)
        data_file = resolve_data_file(data)
    except (SpecError, DataError) as exc:
        raise InputError(str(exc)) from None
    if list_only:
        click.echo("\n".join(command_lines(loaded, out_dir, data_file)))
        return
    try:
        require_ray()
        cpus = cpus or len(os.sched_getaffinity(0))
        summary = run_sweep(loaded, Options(out_dir, data_file, address, cpus, rerun))
    except (SpecError, FolderError) as exc:
        raise InputError(str(exc)) from None
    except RayUnavailable as exc:
        raise SetupFailure(str(exc)) from None
    except Interrupted as exc:  # the finished jobs are kept: this line, not main's "nothing written"
        sys.stdout.flush()
        click.echo(f"djl-parity: sweep stopped by {exc}; the finished jobs' results and the index are in "
                   f"{out_dir}; the same command resumes", err=True)  # fmt: skip
        sys.stderr.flush()
        os._exit(128 + exc.signum)
    click.echo(headline(summary.index))
    click.echo(f"index: {summary.html_path} (also sweep.json)")
    sys.exit(summary.index["exit_code"])


if __name__ == "__main__":
    main()
