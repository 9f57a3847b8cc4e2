"""The options commands share: the run's settings, the engine, the text file, the output folder."""

from __future__ import annotations

import click

from djl_bridge.cli.errors import InputError


def data_option(help: str = "The Time Machine text [$DJL_PARITY_DATA, cache, download]."):
    """The one ``--data`` option: the text file, checked by the data resolver."""
    return click.option("--data", type=click.Path(dir_okay=False), default=None, help=help)


def out_option(default: str, what: str):
    """The one ``--out`` option: ``what`` goes there, and the rule every command follows for an existing folder."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        default=default,
        show_default=True,
        help=f"Folder for {what}, written whole at the end. An existing folder is replaced only when djl-parity "
        "wrote it (its .djl-parity-run file); any other, and one holding the current or home folder, is refused.",
    )


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


def config(kwargs: dict, sides: int = 2):
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


def checked_out_dir(out: str):
    from pathlib import Path

    from djl_bridge.outputs import OutputDirError, check_out_dir

    try:
        check_out_dir(Path(out))
    except OutputDirError as exc:
        raise InputError(str(exc)) from None
    return Path(out)
