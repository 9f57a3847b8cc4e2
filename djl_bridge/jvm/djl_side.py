"""The Java side's program: our DJL classes (java/) driven through JPype, results as Python values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djl_bridge.config import RunConfig
from djl_bridge.jvm.errors import capture_java_output, java_errors
from djl_bridge.jvm.runtime import jclass, start
from djl_bridge.runs import EpochCallback, RunResult

D2L = "org.djlparity.d2l."
LAYOUT_FIX_DEVIATION = (
    "layout-fix: bidirectional LSTM layers run through org.djlparity.fix.LayoutFixedLstm, which hands "
    "libtorch DJL's parameters in per-(layer, direction) order; the published notebook fails on DJL's "
    "PyTorch engine instead")
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


def djl_device(cfg: RunConfig) -> Any:
    """The Java side runs on the CPU: its JNI is DJL's CPU build, shared with the C++11-ABI wheel."""
    if cfg.device == "cuda":
        raise ValueError("--device cuda: the Java side runs DJL's CPU JNI build; use --device cpu or auto")
    return jclass("ai.djl.Device").cpu()


def prepare(cfg: RunConfig, data: Path) -> JavaSetup:
    """Build the notebook's dataset and model on the Java side, exactly as the notebook cell does."""
    start()
    cfg = cfg.resolved()
    device = djl_device(cfg)
    with java_errors():
        jclass("ai.djl.engine.Engine").getInstance().setRandomSeed(cfg.seed)
        manager = jclass("ai.djl.ndarray.NDManager").newBaseManager(device)
        builder = (jclass(D2L + "TimeMachineDataset").builder()
                   .setManager(manager)
                   .setMaxTokens(cfg.max_tokens)
                   .setSampling(cfg.batch_size, cfg.random_iter)
                   .setSteps(cfg.num_steps)
                   .setDataFile(jclass("java.io.File")(str(data)).toPath()))
        if cfg.offset is not None:
            builder = builder.optOffset(cfg.offset)
        dataset = builder.build()
        dataset.prepare()
        vocab = dataset.getVocab()
        net = jclass(D2L + "Models").create(cfg.model, vocab.length(), cfg.hidden, cfg.layers,
                                             cfg.layout_fix, device, manager)
    return JavaSetup(manager, device, dataset, vocab, net)


def run_djl(cfg: RunConfig, data: Path, on_epoch: EpochCallback | None = None) -> RunResult:
    """Run the notebook cell on real DJL: trainCh8 with the Java helpers, then the two predictions."""
    import jpype

    info = start()
    cfg = cfg.resolved()
    setup = prepare(cfg, data)
    perplexities: list[float] = []
    speeds: list[float] = []

    def epoch_done(epoch: int, ppl: float, speed: float) -> None:
        perplexities.append(float(ppl))
        speeds.append(float(speed))
        if on_epoch is not None:
            on_epoch(int(epoch), float(ppl), float(speed))

    listener = jpype.JProxy(D2L + "EpochListener", dict(onEpoch=epoch_done))
    try:
        with capture_java_output() as out, java_errors():
            jclass(D2L + "TimeMachine").trainCh8(setup.net, setup.dataset, setup.vocab, cfg.lr, cfg.epochs,
                                                 setup.device, cfg.random_iter, setup.manager, listener)
        final_line, *preds = out.lines[-3:]
        return RunResult(
            "djl", cfg.as_dict(), str(setup.device), int(setup.dataset.getOffset()),
            [str(t) for t in setup.vocab.idxToToken()], perplexities, speeds, final_line,
            dict(zip(("time traveller", "traveller"), preds)), deviations_of(cfg),
            environment={"java": info.java_version, "djl": info.djl_version,
                         "engine": f"{info.engine} {info.engine_version}", "libtorch": info.libtorch_dir},
        )
    finally:
        setup.manager.close()
