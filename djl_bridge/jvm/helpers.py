"""Our Java helpers (java/) on this process's DJL engine as a side: a request in, a complete trace out.

Runs where the JVM runs: inside a worker process (``worker_main.py``), whichever the engine.
The model and dataset are built exactly as the notebook cell builds them; training goes one batch
at a time through the same Java code as ``TimeMachine.trainEpochCh8`` (``bridge.TrainSession``), so
every step is recorded; the final lines are printed by the same Java method ``trainCh8`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from djl_bridge.config import ConfigError, RunConfig
from djl_bridge.jvm.convert import to_ndarray, to_numpy
from djl_bridge.jvm.errors import JavaError, capture_java_output, java_call
from djl_bridge.jvm.runtime import jclass, start
from djl_bridge.trace import PREFIXES, Arrays, Data, Failure, Request, Step, Trace, joined_tokens

D2L = "org.djlparity.d2l."
BRIDGE = "org.djlparity.bridge."
EpochCallback = Callable[[int, float, float], None]
LAYOUT_FIX_DEVIATION = (
    "layout-fix: bidirectional LSTM layers run through org.djlparity.fix.LayoutFixedLstm, which hands "
    "libtorch DJL's parameters in per-(layer, direction) order; the published notebook fails on DJL's "
    "PyTorch engine instead"
)
NUM_STEPS_DEVIATION = "num-steps {n}: the original TimeMachineDataset hard-codes 35 and fails for other values"


def deviations_of(cfg: RunConfig) -> list[str]:
    """The documented departures from the published notebook that ``cfg`` asks the Java side for."""
    out = []
    if cfg.layout_fix and cfg.model == "bilstm":
        out.append(LAYOUT_FIX_DEVIATION)
    if cfg.num_steps != 35:
        out.append(NUM_STEPS_DEVIATION.format(n=cfg.num_steps))
    return out


@dataclass
class JavaSetup:
    """The Java objects of one run: manager, dataset, vocabulary and the (uninitialised) model."""

    manager: Any
    device: Any
    dataset: Any
    vocab: Any
    net: Any


def failure_of(exc: JavaError) -> Failure:
    return Failure(exc.java_class, exc.message, exc.stack_trace)


def prepare(cfg: RunConfig, data: Path) -> JavaSetup:
    """Build the notebook's dataset and model on the Java side, exactly as the notebook cell does."""
    if cfg.device == "cuda":
        raise ConfigError("--device cuda: the Java side runs DJL's CPU build; use --device cpu or auto")
    device = jclass("ai.djl.Device").cpu()
    with java_call():
        jclass("ai.djl.engine.Engine").getInstance().setRandomSeed(cfg.seed)
        manager = jclass("ai.djl.ndarray.NDManager").newBaseManager(device)
        builder = (
            jclass(D2L + "TimeMachineDataset")
            .builder()
            .setManager(manager)
            .setMaxTokens(cfg.max_tokens)
            .setSampling(cfg.batch_size, cfg.random_iter)
            .setSteps(cfg.num_steps)
            .setDataFile(jclass("java.io.File")(str(data)).toPath())
        )
        if cfg.offset is not None:
            builder = builder.optOffset(cfg.offset)
        dataset = builder.build()
        dataset.prepare()
        vocab = dataset.getVocab()
        net = jclass(D2L + "Models").create(
            cfg.model,
            vocab.length(),
            cfg.hidden,
            cfg.layers,
            cfg.layout_fix,
            cfg.bias,
            cfg.learn_boundary,
            device,
            manager,
        )
    return JavaSetup(manager, device, dataset, vocab, net)


def probe_as_published(cfg: RunConfig, data: Path) -> Failure | None:
    """One training-mode forward of the model exactly as published (no layout fix); its failure, if any."""
    setup = prepare(replace(cfg, layout_fix=False), data)
    try:
        with java_call():
            jclass(BRIDGE + "Params").initialize(setup.net, setup.manager, _input_shape(cfg))
    except JavaError as exc:
        return failure_of(exc)
    finally:
        setup.manager.close()
    return None


def _input_shape(cfg: RunConfig) -> Any:
    return jclass("ai.djl.ndarray.types.Shape")(cfg.batch_size, cfg.num_steps)


def _data(setup: JavaSetup, data: Path) -> Data:
    TimeMachine = jclass(D2L + "TimeMachine")
    with java_call():
        lines = TimeMachine.readTimeMachine(jclass("java.io.File")(str(data)).toPath())
        tokens = [[str(t) for t in line] for line in TimeMachine.tokenize(lines, "char")]
        xs, ys = [], []
        for batch in setup.dataset.getData(setup.manager):
            xs.append(to_numpy(batch.getData().head()))
            ys.append(to_numpy(batch.getLabels().head()))
            batch.close()
    return Data(
        [str(s) for s in lines],
        joined_tokens(tokens),
        [str(t) for t in setup.vocab.idxToToken()],
        [int(i) for i in setup.dataset.getCorpus()],
        int(setup.dataset.getOffset()),
        np.stack(xs),
        np.stack(ys),
    )


def _params(setup: JavaSetup, names: list[str]) -> Arrays:
    Params = jclass(BRIDGE + "Params")
    return {n: to_numpy(Params.get(setup.net, n)) for n in names}


def _named(names: list[str], arrays: Any) -> Arrays:
    return {n: to_numpy(a) for n, a in zip(names, arrays)}


def _step(rec: Any) -> Step:
    names = [str(n) for n in rec.names]
    try:
        return Step(
            to_numpy(rec.logits),
            {name: to_numpy(s) for name, s in zip(("H", "C"), rec.stateOut)},
            np.float32(rec.loss),
            _named(names, rec.gradsBefore),
            np.float64(rec.gradNorm),
            _named(names, rec.gradsAfter),
            _named(names, rec.paramsAfter),
        )
    finally:
        rec.close()


@dataclass
class Trained:
    """What the training loop recorded."""

    steps: list[Step]
    losses: list[float]
    grad_norms: list[float]
    grad_sq: list[list[float]]
    perplexities: list[float]
    speeds: list[float]


def train(setup: JavaSetup, request: Request, on_epoch: EpochCallback | None = None) -> Trained:
    """Train the prepared (and initialised) model as ``request`` asks, one batch at a time; what it recorded."""
    cfg = request.config
    run = Trained([], [], [], [], [], [])
    session = jclass(BRIDGE + "TrainSession")(
        setup.net, setup.dataset, cfg.lr, setup.device, cfg.random_iter, setup.manager
    )
    session.setDiscardStopGradient(request.discard_stop_gradient)
    try:
        for _ in range(cfg.epochs):
            session.beginEpoch()
            session.setCapture(len(run.steps) < request.full_steps)
            while session.step():
                clip = session.lastClip()
                run.losses.append(float(session.lastLoss()))
                run.grad_norms.append(float(clip.norm))
                run.grad_sq.append([float(x) for x in clip.sq])
                if len(run.steps) < request.full_steps and session.lastRecord() is not None:
                    run.steps.append(_step(session.lastRecord()))
                    session.setCapture(len(run.steps) < request.full_steps)
            ppl, speed = session.endEpoch()
            run.perplexities.append(float(ppl))
            run.speeds.append(float(speed))
            if on_epoch is not None:
                on_epoch(len(run.perplexities), float(ppl), float(speed))
    finally:
        session.close()
    return run


def _printed(setup: JavaSetup, run: Trained) -> tuple[dict[str, str], list[str]]:
    """The final lines as trainCh8 prints them (the same Java method), and the predictions."""
    if not run.perplexities:
        return {}, []
    with capture_java_output() as out:
        jclass(D2L + "TimeMachine").printResults(
            run.perplexities[-1], run.speeds[-1], setup.net, setup.vocab, setup.device, setup.manager
        )
    lines = out.lines[-3:]
    return dict(zip(PREFIXES, lines[1:])), lines


def run(request: Request, on_epoch: EpochCallback | None = None) -> Trace:
    """Our helpers on this JVM's engine, as ``request`` asks: data, initial weights, every step, the end."""
    from djl_bridge.environment import jvm_environment

    info = start()
    cfg, data = request.config, Path(request.data)
    published = probe_as_published(cfg, data) if request.probe else None
    setup = prepare(cfg, data)
    try:
        base = Trace(f"djl:{info.choice}", jvm_environment(info, "our Java helpers"), _data(setup, data))
        try:  # the model's first forward (its initialisation) may fail as published: the trace then says so
            with java_call():
                jclass(BRIDGE + "Params").initialize(setup.net, setup.manager, _input_shape(cfg))
                names = [str(n) for n in jclass(BRIDGE + "Params").names(setup.net)]
                init_own = _params(setup, names)
                for name in names if request.init is not None else []:
                    jclass(BRIDGE + "Params").set(setup.net, name, to_ndarray(setup.manager, request.init[name]))
                base = replace(base, init_own=init_own, init=_params(setup, names))
                run_ = train(setup, request, on_epoch)
                final = _params(setup, names)
                predictions, printed = _printed(setup, run_)
        except JavaError as exc:
            return replace(base, published_failure=published, failure=failure_of(exc), deviations=deviations_of(cfg))
    finally:
        setup.manager.close()
    return replace(
        base,
        steps=run_.steps,
        losses=run_.losses,
        grad_norms=run_.grad_norms,
        grad_sq=run_.grad_sq,
        perplexities=run_.perplexities,
        speeds=run_.speeds,
        final=final,
        predictions=predictions,
        printed=printed,
        published_failure=published,
        deviations=deviations_of(cfg),
    )
