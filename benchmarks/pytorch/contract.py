"""The gru-attention-v1 module of ../../../shared/spec/model-contract.md, in PyTorch.

Independent of the Swift code: it is written from the contract alone, so that loading Rounds'
model files here and comparing outputs checks the Swift implementation.
"""
import json

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file


class GRUAttention(nn.Module):
    def __init__(self, F, E, H, A, K):
        super().__init__()
        self.embed = nn.Linear(F, E)
        self.gru = nn.GRU(E, H, batch_first=True)
        self.attn_proj = nn.Linear(H, A)
        self.attn_score = nn.Linear(A, 1, bias=False)
        self.out = nn.Linear(H, K)
        self.register_buffer("input_mean", torch.zeros(F))
        self.register_buffer("input_std", torch.ones(F))

    def forward(self, x, mask=None):
        """x: [B, T, F] standardized; mask: [B, T] bool (True = a real visit), or None.

        Sequences are left-aligned and padded at the end: the GRU runs over the padding, but
        padded steps get no attention and so never reach the output.
        """
        h, _ = self.gru(self.embed(x))
        e = self.attn_score(torch.tanh(self.attn_proj(h))).squeeze(-1)
        if mask is not None:
            e = e.masked_fill(~mask, float("-inf"))
        a = torch.softmax(e, dim=1)
        c = (a.unsqueeze(-1) * h).sum(dim=1)
        return torch.softmax(self.out(c), dim=-1), a


def load(path):
    """Loads a Rounds model file with load_state_dict(strict=True); returns (model, metadata).

    The optional tensors train_min/train_max (the raw range of each input column in the
    training data) are no module state: they are dropped before loading."""
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    assert meta["architecture"] == "gru-attention-v1", meta.get("architecture")
    state = load_file(path)
    for name in ("train_min", "train_max"):
        state.pop(name, None)
    F = state["embed.weight"].shape[1]
    E = state["embed.weight"].shape[0]
    H = state["gru.weight_hh_l0"].shape[1]
    A = state["attn_proj.weight"].shape[0]
    K = state["out.weight"].shape[0]
    model = GRUAttention(F, E, H, A, K)
    model.load_state_dict(state, strict=True)
    model.eval()
    features, treatments = json.loads(meta["features"]), json.loads(meta["treatments"])
    assert len(features) == F and len(treatments) == K
    return model, meta
