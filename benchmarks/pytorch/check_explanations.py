"""Checks Rounds' shipped model and explanations against PyTorch + Captum, patient by patient.

For each cohort patient it runs `rounds explain --patient ID --json` (the contract's
machine-readable explanation: the standardized input the Swift model saw, its probabilities,
attention and integrated gradients), loads the same model file here with the contract's module
(strict state_dict; any architecture of the contract: gru-attention-v1, retain-v1 or
retain-mlp-v1), and recomputes everything with PyTorch and Captum's IntegratedGradients
(Gauss-Legendre, 50 steps, zeros baseline). Prints the largest differences.

    python benchmarks/pytorch/check_explanations.py [--rounds .build/release/rounds] [--patients 50]

Needs torch, captum, safetensors (pip install -r benchmarks/pytorch/requirements.txt). Uses the
store `rounds` uses ($ROUNDS_DB), which holds the demo cohort after the first start.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

import torch
from captum.attr import IntegratedGradients

sys.path.insert(0, os.path.dirname(__file__))
from contract import load  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", default=os.path.join(ROOT, ".build/release/rounds"))
    ap.add_argument("--model", default=os.path.join(ROOT, "Knowledge/models/default.safetensors"))
    ap.add_argument("--patients", type=int, default=50)
    ap.add_argument("--first", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, meta = load(args.model)
    sha = hashlib.sha256(open(args.model, "rb").read()).hexdigest()

    def prob_of(k):
        return lambda x: model(x)[0][:, k]

    worst = {"probabilities": 0.0, "attention": 0.0, "attributions": 0.0, "delta": 0.0}
    worst_relative_attr = 0.0
    for i in range(args.first, args.first + args.patients):
        pid = f"demo-{i:05d}"
        out = subprocess.run([args.rounds, "explain", "--patient", pid, "--json"], capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
        if out.returncode != 0:
            sys.exit(f"rounds explain --patient {pid} failed: {out.stderr}")
        r = json.loads(out.stdout)
        assert r["model_sha256"] == sha, "rounds used another model file"
        x = torch.tensor(r["input"], dtype=torch.float32).unsqueeze(0)
        with torch.no_grad():
            p, a = model(x)
        k = r["ig"]["target"]
        ig = IntegratedGradients(prob_of(k))
        attr, delta = ig.attribute(x, baselines=torch.zeros_like(x), method="gausslegendre", n_steps=r["ig"]["steps"],
                                   return_convergence_delta=True)
        dp = (p[0] - torch.tensor(r["probabilities"])).abs().max().item()
        da = (a[0] - torch.tensor(r["attention"])).abs().max().item()
        swift_attr = torch.tensor(r["ig"]["attributions"])
        dattr = (attr[0] - swift_attr).abs().max().item()
        ddelta = abs(delta.item() - r["ig"]["delta"])
        rel = dattr / max(swift_attr.abs().max().item(), 1e-12)
        for key, v in (("probabilities", dp), ("attention", da), ("attributions", dattr), ("delta", ddelta)):
            worst[key] = max(worst[key], v)
        worst_relative_attr = max(worst_relative_attr, rel)
        print(f"{pid}: T={x.shape[1]:2d} target={r['treatments'][k]:<13} |dp|={dp:.1e} |da|={da:.1e} |dattr|={dattr:.1e} |ddelta|={ddelta:.1e}")
    print(f"\n{args.patients} patients, model {sha[:12]}, torch {torch.__version__}:")
    print("largest |Swift - PyTorch|: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items())
          + f"; attributions relative to the largest attribution {worst_relative_attr:.2e}")
    ok = worst["probabilities"] < 1e-5 and worst["attention"] < 1e-5 and worst["attributions"] < 1e-4 and worst["delta"] < 1e-4
    print(f"{meta['architecture']}: probabilities and attention agree to 1e-5, attributions and delta to 1e-4" if ok
          else "SWIFT AND PYTORCH + CAPTUM DIFFER BEYOND 1e-5 (probabilities, attention) OR 1e-4 (attributions, delta)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
