"""PyTorch (+ Captum) beside Rounds on the same architecture, sizes and workload, in one run.

    python benchmarks/pytorch/bench.py [--rounds .build/release/rounds]

Runs `rounds bench --json` (the shipped model's architecture and sizes by default, or
`--architecture A` at `rounds train`'s sizes; build it with `swift build -c release` first),
builds the contract's module at the sizes it reports, then makes the same measurements in PyTorch on CPU: one patient's forward pass at 12 and 40 visits, a full
explanation (probabilities, attention and integrated gradients at 50 Gauss-Legendre steps in one
batch, Captum), and training throughput (2,048 random sequences of 3-40 visits, batch 32, Adam,
padded batches with the attention masked), at 1 and 2 threads. Prints both side by side.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
from captum.attr import IntegratedGradients

sys.path.insert(0, os.path.dirname(__file__))
from contract import RETAIN, GRUAttention  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARCHITECTURES = ["retain-mlp-v1", "retain-v1", "gru-attention-v1"]
# The sizes `rounds bench` reports it measured (set in main).
F = E = H = A = K = D = 0


def make(arch):
    """The architecture's module at the sizes Rounds measured."""
    if arch == "gru-attention-v1":
        return GRUAttention(F, E, H, A, K)
    return RETAIN(F, E, H, K, D if arch == "retain-mlp-v1" else 0)


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def forward_latency(model, T, reps):
    x = torch.rand(1, T, F) * 4 - 2
    def run():
        with torch.no_grad():
            model(x)
    return median_ms(run, reps)


def explanation_latency(model, T, reps):
    x = torch.rand(1, T, F) * 4 - 2
    def run():
        with torch.no_grad():
            p, _ = model(x)
        k = int(p[0].argmax())
        IntegratedGradients(lambda inp: model(inp)[0][:, k]).attribute(
            x, baselines=torch.zeros_like(x), method="gausslegendre", n_steps=50, internal_batch_size=50)
    return median_ms(run, reps)


def training_throughput(arch, threads, sequences=2048, batch=32):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(5)
    lengths = [3 + i % 38 for i in range(sequences)]
    data = [torch.rand(L, F, generator=g) * 4 - 2 for L in lengths]
    labels = torch.tensor([i % K for i in range(sequences)])
    model = make(arch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(sequences, generator=g).tolist()
    t0 = time.perf_counter()
    for s in range(0, sequences, batch):
        idx = order[s:s + batch]
        Tm = max(lengths[i] for i in idx)
        x = torch.zeros(len(idx), Tm, F)
        mask = torch.zeros(len(idx), Tm, dtype=torch.bool)
        for j, i in enumerate(idx):
            x[j, :lengths[i]] = data[i]
            mask[j, :lengths[i]] = True
        p, _ = model(x, mask)
        loss = torch.nn.functional.nll_loss(torch.log(p + 1e-12), labels[idx])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    return sequences / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", default=os.path.join(ROOT, ".build/release/rounds"))
    ap.add_argument("--repetitions", type=int, default=300)
    ap.add_argument("--architecture", choices=ARCHITECTURES, help="default: the shipped model's")
    args = ap.parse_args()
    cmd = [args.rounds, "bench", "--json", "--repetitions", str(args.repetitions)]
    if args.architecture:
        cmd += ["--architecture", args.architecture]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    global F, E, H, A, K, D
    F, E, H, A, K, D = r["features"], r["embed"], r["hidden"], r["attention"], r["treatments"], r["embedHidden"]
    args.architecture = r["architecture"]
    torch.manual_seed(1)
    torch.set_num_threads(1)
    model = make(args.architecture).eval()
    t = {
        "forward12": forward_latency(model, 12, args.repetitions),
        "forward40": forward_latency(model, 40, args.repetitions),
        "explain12": explanation_latency(model, 12, max(args.repetitions // 10, 5)),
        "explain40": explanation_latency(model, 40, max(args.repetitions // 10, 5)),
        "train1": training_throughput(args.architecture, 1),
        "train2": training_throughput(args.architecture, 2),
    }
    rows = [
        ("forward, one patient, 12 visits (ms)", r["forwardMillisecondsT12"], t["forward12"], False),
        ("forward, one patient, 40 visits (ms)", r["forwardMillisecondsT40"], t["forward40"], False),
        ("full explanation, IG 50 steps, 12 visits (ms)", r["explanationMillisecondsT12"], t["explain12"], False),
        ("full explanation, IG 50 steps, 40 visits (ms)", r["explanationMillisecondsT40"], t["explain40"], False),
        ("training, sequences/s, 1 thread", r["trainSequencesPerSecond1Thread"], t["train1"], True),
        ("training, sequences/s, 2 threads", r["trainSequencesPerSecond2Threads"], t["train2"], True),
    ]
    print(f"{args.architecture}: F {F}, embedding hidden {D}, embed {E}, hidden {H}; torch {torch.__version__}, captum, CPU; Rounds release build ({r.get('kernels', '?')} kernels); single-patient timings on 1 thread (medians)")
    print(f"{'measurement':<48} {'Rounds':>10} {'PyTorch':>10} {'Rounds faster by':>17}")
    for name, swift, torch_v, higher_better in rows:
        ratio = swift / torch_v if higher_better else torch_v / swift
        print(f"{name:<48} {swift:>10.3f} {torch_v:>10.3f} {ratio:>16.1f}x")


if __name__ == "__main__":
    main()
