"""Measure how far the port drifts from itself under last-bit changes; store it as the envelope.

For each config and seed, three runs of the port train the same batches:
  A  parity mode from the port's seeded initial weights;
  B  the same, from a copy with every initial element moved one ULP up or down at random;
  C  fast mode from A's weights: the same maths through fused kernels that round differently at
     every step (cross_entropy's reduction, foreach clipping and SGD), as another engine does.
The largest |Δ| of A-B and A-C (max over seeds) of each step-1 stage, of every step's loss, of
every epoch's perplexity and of the parameters after every epoch is kept in
djl_bridge/parity/envelope.json under the config's key, with the command that measured it.

    .venv/bin/python scripts/calibrate_envelope.py                      # the presets below
    .venv/bin/python scripts/calibrate_envelope.py --model gru --hidden 32 --layers 1 --max-tokens 2000 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from djl_bridge.config import RunConfig
from djl_bridge.data import resolve_data_file
from djl_bridge.dataset import TimeMachineDataset
from djl_bridge.models import build_model
from djl_bridge.params import from_djl, seeded_model, to_djl
from djl_bridge.parity.envelope import ENVELOPE_FILE, STEP1_STAGES, config_key
from djl_bridge.text import load_corpus_time_machine
from djl_bridge.training import train_epoch_ch8

#: (model, hidden, layers, max_tokens, epochs, port_engine, batch_size): the notebook cell on
#: MXNet, the small configs the tests compare across engines, and our test notebooks' config
#: (parity_tests/notebooks/chapter, which `djl-parity notebook --engine mxnet` compares in CI).
PRESETS = [
    ("bilstm", 256, 2, 10000, 5, "mxnet", 32),
    ("bilstm", 32, 2, 2000, 3, "mxnet", 32),
    ("lstm", 32, 1, 2000, 3, "mxnet", 32),
    ("gru", 32, 1, 2000, 3, "mxnet", 32),
    ("rnn-scratch", 32, 1, 2000, 3, "mxnet", 32),
    ("lstm-scratch", 32, 1, 2000, 3, "mxnet", 32),
    ("bilstm", 8, 1, 2000, 3, "mxnet", 8),
    ("lstm", 8, 1, 2000, 3, "mxnet", 8),
    ("rnn", 8, 1, 2000, 3, "mxnet", 8),
]
SEEDS = (0, 1, 2)


def nudged(params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Every element one ULP up or down (random sign), float32."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, a in params.items():
        up = rng.integers(0, 2, a.shape).astype(bool)
        out[name] = np.where(up, np.nextafter(a, np.float32(np.inf)), np.nextafter(a, np.float32(-np.inf)))
    return out


def run(cfg: RunConfig, corpus, vocab_size: int, init: dict[str, np.ndarray], offset: int) -> dict:
    """Train the port; record step 1, every step's loss, every epoch's perplexity and parameters."""
    net = build_model(cfg.model, vocab_size, cfg.hidden, cfg.layers, cfg.port_engine)
    from_djl(net, init)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=offset)
    rec: dict = {"losses": [], "ppl": [], "params": [], "step1": None}

    def hook(r) -> None:
        rec["losses"].append(float(r.loss))
        if rec["step1"] is None:
            rec["step1"] = {
                "step1.logits": r.logits.numpy(),
                "step1.state": [s.numpy() for s in r.state_out],
                "step1.loss": np.float32(r.loss),
                "step1.grads": r.grads_before,
                "step1.grad_norm": np.float64(r.grad_norm),
                "step1.clipped_grads": r.grads_after,
                "step1.params_after": r.params_after,
            }

    for _ in range(cfg.epochs):
        ppl, _ = train_epoch_ch8(
            net,
            dataset.batches(torch.device("cpu")),
            cfg.lr,
            torch.device("cpu"),
            False,
            cfg.mode,
            hook,
            zero_scratch_grads=cfg.port_engine == "mxnet",
        )
        rec["ppl"].append(ppl)
        rec["params"].append(to_djl(net))
    return rec


def _max_abs(a, b) -> float:
    if isinstance(a, dict):
        return max(_max_abs(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return max(_max_abs(x, y) for x, y in zip(a, b))
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), initial=0.0))


def calibrate(cfg: RunConfig, data: Path, seeds=SEEDS) -> dict:
    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    acc: dict = {
        "step1_abs": {s: 0.0 for s in STEP1_STAGES},
        "step_loss_abs": [],
        "epoch_ppl_abs": [],
        "epoch_params_abs": [],
    }

    def fold(key: str, values: list[float]) -> None:
        old = acc[key]
        acc[key] = [max(x, y) for x, y in zip(old, values)] + values[len(old) :] if old else values

    for seed in seeds:
        base = to_djl(seeded_model(cfg.model, len(vocab), cfg.hidden, cfg.layers, seed))
        offset = seed % cfg.num_steps
        a = run(cfg, corpus, len(vocab), base, offset)
        for b in (
            run(cfg, corpus, len(vocab), nudged(base, seed), offset),
            run(replace(cfg, mode="fast"), corpus, len(vocab), base, offset),
        ):
            for s in STEP1_STAGES:
                acc["step1_abs"][s] = max(acc["step1_abs"][s], _max_abs(a["step1"][s], b["step1"][s]))
            fold("step_loss_abs", [abs(x - y) for x, y in zip(a["losses"], b["losses"])])
            fold("epoch_ppl_abs", [abs(x - y) for x, y in zip(a["ppl"], b["ppl"])])
            fold("epoch_params_abs", [_max_abs(x, y) for x, y in zip(a["params"], b["params"])])
    return {"seeds": len(seeds), **acc}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--max-tokens", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=int, default=None, help="learning rate [the model's notebook's]")
    ap.add_argument("--port-engine", default="mxnet")
    ap.add_argument("--data")
    ap.add_argument("--small", action="store_true", help="only the presets under 10,000 tokens")
    ap.add_argument("--seeds", type=int, default=len(SEEDS), help="seeds per config [%(default)s]")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--out", type=Path, default=ENVELOPE_FILE, help="envelope file to update [%(default)s]")
    args = ap.parse_args(argv)
    data = resolve_data_file(args.data)
    presets = (
        [(args.model, args.hidden, args.layers, args.max_tokens, args.epochs, args.port_engine, args.batch_size)]
        if args.model
        else PRESETS
    )
    if args.small:
        presets = [p for p in presets if p[3] < 10000]
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {}
    command = " ".join([".venv/bin/python scripts/calibrate_envelope.py", *argv])
    doc["method"] = (
        "port vs port: (B) initial weights moved one ULP at random and (C) fast-mode kernels, "
        "each against (A) parity mode; max |Δ| over the seeds (0, 1, ...) and both; offset = seed"
    )
    envelopes = doc.setdefault("envelopes", {})
    if args.threads:
        torch.set_num_threads(args.threads)
    for model, hidden, layers, max_tokens, epochs, port_engine, batch_size in presets:
        cfg = RunConfig(
            model=model,
            hidden=hidden,
            layers=layers,
            max_tokens=max_tokens,
            epochs=epochs,
            port_engine=port_engine,
            batch_size=batch_size,
            lr=args.lr if args.model else None,
        ).resolved()
        t0 = time.perf_counter()
        result = {"command": command, **calibrate(cfg, data, SEEDS[: args.seeds])}
        print(f"{config_key(cfg.as_dict())}: {epochs} epochs, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if args.out.is_file():  # another calibration may have written meanwhile: keep its entries
            envelopes = {**json.loads(args.out.read_text()).get("envelopes", {}), **envelopes}
        envelopes[config_key(cfg.as_dict())] = result
        doc["envelopes"] = envelopes
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
