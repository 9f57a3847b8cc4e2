"""The comparison: both sides from the same data and the same initial weights, stage by stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from djl_bridge.concurrency import SidePair
from djl_bridge.config import ConfigError, RunConfig
from djl_bridge.parity.compare import EXPLAINED, FAILED, StageResult, compare_stage, not_compared
from djl_bridge.parity.divergences import by_name, failure_cause
from djl_bridge.parity.envelope import STEP1_STAGES
from djl_bridge.parity.report import Report
from djl_bridge.trace import Trace, python_data, python_run

#: Stages after the data, in the order the flow produces them.
RUN_STAGES = (
    "init.independent",
    "init.transfer",
    *STEP1_STAGES,
    "steps.loss",
    "epochs.perplexity",
    "final.params",
    "predictions",
)
Progress = Callable[[str], None]
EpochProgress = Callable[[str, int, float, float], None]


def _data_stages(java: Trace, python: Trace, mode: str) -> list[StageResult]:
    return [
        compare_stage("lines", java.lines, python.lines, mode),
        compare_stage("tokens", java.tokens, python.tokens, mode),
        compare_stage("vocab", java.vocab, python.vocab, mode),
        compare_stage("corpus", java.corpus, python.corpus, mode),
        compare_stage("batches.x", java.batches_x, python.batches_x, mode),
        compare_stage("batches.y", java.batches_y, python.batches_y, mode),
    ]


def _run_stages(java: Trace, python: Trace, mode: str) -> list[StageResult]:
    j, p = java.step1, python.step1
    assert j is not None and p is not None
    return [
        compare_stage("init.independent", java.init_own, python.init_own, mode),
        compare_stage("init.transfer", java.init_params, python.init_params, mode),
        compare_stage("step1.logits", j.logits, p.logits, mode),
        compare_stage("step1.state", j.state, p.state, mode),
        compare_stage("step1.loss", j.loss, p.loss, mode),
        compare_stage("step1.grads", j.grads, p.grads, mode),
        compare_stage("step1.grad_norm", j.grad_norm, p.grad_norm, mode),
        compare_stage("step1.clipped_grads", j.clipped_grads, p.clipped_grads, mode),
        compare_stage("step1.params_after", j.params_after, p.params_after, mode),
        compare_stage("steps.loss", java.step_losses, python.step_losses, mode, "step"),
        compare_stage("epochs.perplexity", java.perplexities, python.perplexities, mode, "epoch"),
        compare_stage("final.params", java.final_params, python.final_params, mode),
        compare_stage(
            "predictions",
            [java.predictions[k] for k in sorted(java.predictions)],
            [python.predictions[k] for k in sorted(python.predictions)],
            mode,
        ),
    ]


def compare(
    cfg: RunConfig,
    data: Path,
    init: str = "java",
    steps: int = 20,
    progress: Progress | None = None,
    epoch_progress: EpochProgress | None = None,
    concurrent: bool = False,
) -> Report:
    """Run the notebook on both sides from one start and compare every stage.

    ``cfg`` must have passed :func:`djl_bridge.config.validated`. ``progress(message)`` hears of
    each phase, ``epoch_progress(side, epoch, ppl, speed)`` of each epoch (from either side's thread
    when ``concurrent``: then the two sides train at once, each with half the threads, once the
    initialising side has its weights). The report's environment gives each side's wall time.
    """
    from djl_bridge.jvm import JavaError, start
    from djl_bridge.jvm.djl_side import deviations_of, java_data, java_run, probe_as_published

    say = progress or (lambda _msg: None)
    cfg = cfg.resolved()
    if cfg.random_iter:
        raise ConfigError("compare follows the notebook's sequential sampling; drop --random-iter")
    if cfg.device == "cuda":
        raise ConfigError(
            "compare runs both sides on the CPU (the Java side uses DJL's CPU JNI); "
            "use `train --impl python --device cuda` for the GPU"
        )
    cfg = replace(cfg, device="cpu")
    if init not in ("java", "python"):
        raise ConfigError(f"--init must be java or python, got {init!r}")
    info = start()
    mode = cfg.mode
    stages: list[StageResult] = []

    if cfg.model == "bilstm":
        say("java: probing the notebook's bi-LSTM as published")
        stages.append(_as_published_stage(probe_as_published(cfg, data), mode))

    say("java: text, vocabulary, corpus, batches")
    setup, java = java_data(cfg, data)
    say(f"python: the same stages (offset {java.offset}, read back from Java)")
    python = python_data(cfg, data, java.offset)
    stages += _data_stages(java, python, mode)

    report_cfg = {**cfg.as_dict(), "offset": java.offset}
    environment = _environment(info, cfg)
    report = Report(report_cfg, init, stages, environment, deviations=deviations_of(cfg))
    if cfg.model == "bilstm" and not cfg.layout_fix:
        stages += [
            not_compared(
                s,
                mode,
                "the published bi-LSTM does not train on DJL's PyTorch engine",
                "--layout-fix",
                cause="djl-bilstm-parameter-layout",
            )
            for s in RUN_STAGES
        ]
        setup.manager.close()
        return report
    pair = SidePair(concurrent)
    java_epochs, python_epochs = _side(epoch_progress, "java", pair), _side(epoch_progress, "python", pair)
    how = "at once, each with half the threads" if concurrent else "one after the other"
    try:
        if init == "java":
            say(
                f"java: initialise from seed {cfg.seed}; python: take Java's weights; train {cfg.epochs} epoch(s) {how}"
            )
            timing = pair.run(
                lambda ready: java_run(setup, java, cfg, None, steps, java_epochs, ready),
                lambda: python_run(python, cfg, data, java.init_params, steps, python_epochs),
            )
            java_s, python_s = timing.first_s, timing.second_s
        else:
            say(
                f"python: initialise from seed {cfg.seed}; java: take Python's weights; train {cfg.epochs} "
                f"epoch(s) {how}"
            )
            timing = pair.run(
                lambda ready: python_run(python, cfg, data, None, steps, python_epochs, ready),
                lambda: java_run(setup, java, cfg, python.init_params, steps, java_epochs),
            )
            python_s, java_s = timing.first_s, timing.second_s
    except JavaError as exc:
        stages.append(_java_failure_stage(exc, mode))
        stages += [not_compared(s, mode, "the Java side failed before it finished", "") for s in RUN_STAGES]
        return report
    finally:
        setup.manager.close()
    stages += _run_stages(java, python, mode)
    environment.update(
        {
            "java tokens/s (last epoch)": f"{java.speeds[-1]:,.0f}",
            "python tokens/s (last epoch)": f"{python.speeds[-1]:,.0f}",
            "sides": f"{how} ({timing.threads_per_side} thread(s) each)",
            "wall time": f"java {java_s:.1f} s, python {python_s:.1f} s, both {timing.whole_s:.1f} s",
        }
    )
    report.java_ppl, report.python_ppl = java.perplexities, python.perplexities
    report.java_step_loss, report.python_step_loss = java.step_losses, python.step_losses
    report.predictions = {p: {"java": java.predictions[p], "python": python.predictions[p]} for p in java.predictions}
    if cfg.model == "birnn-hand":
        from djl_bridge.birnn_hand import future_finding

        say("python: the trained weights read causally (the cautionary finding)")
        report.findings.append(
            future_finding(cfg, data, python.final_params, python.offset, python.perplexities[-1], python.predictions)
        )
    return report


def _side(epoch_progress: EpochProgress | None, side: str, pair: SidePair):
    """The per-epoch callback of one side: stops it once the other side has failed, then reports."""

    def done(epoch: int, ppl: float, speed: float) -> None:
        pair.check()
        if epoch_progress is not None:
            epoch_progress(side, epoch, ppl, speed)

    return done


def _failure_stage(stage: str, exc, mode: str, expected: str) -> StageResult:
    """A Java failure as a stage: EXPLAINED when a registered signature matches it, FAILED otherwise."""
    java_class, message = exc.root()
    known = failure_cause(java_class, message, exc.stack_trace, mode)
    if known is None:
        return StageResult(stage, FAILED, expected, note=f"no registered cause matches: {exc.root_cause()[:400]}")
    return StageResult(stage, EXPLAINED, expected, cause=known.name, note=exc.root_cause()[:400])


def _as_published_stage(failure, mode: str) -> StageResult:
    """The published bi-LSTM on DJL's PyTorch engine: it must fail with libtorch's shape error, nothing else."""
    known = by_name("djl-bilstm-parameter-layout")
    expected = f"fails with {known.failure.exception.rsplit('.', 1)[-1]}"
    if failure is None:
        return StageResult(
            "java.as_published",
            FAILED,
            expected,
            note=(
                f"the published bi-LSTM ran on DJL's PyTorch engine: the registry entry {known.name} no longer holds"
            ),
        )
    return _failure_stage("java.as_published", failure, mode, expected)


def _java_failure_stage(exc, mode: str) -> StageResult:
    return _failure_stage("java.run", exc, mode, "runs")


def _environment(info, cfg: RunConfig) -> dict:
    import platform

    import torch

    return {
        "DJL": info.djl_version,
        "DJL engine": f"{info.engine} {info.engine_version}",
        "libtorch (Java side)": info.libtorch_dir,
        "libtorch mode": info.policy.mode,
        "torch (Python side)": f"{torch.__version__} ({Path(torch.__file__).parent / 'lib'})",
        "Java": info.java_version,
        "Python": platform.python_version(),
        "device": f"java cpu(), python {cfg.device}",
        "mode": cfg.mode,
        "threads": torch.get_num_threads(),
    }
