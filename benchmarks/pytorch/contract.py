"""The modules of docs/model-contract.md in PyTorch: gru-attention-v1 (v1) and retain-v1 (v2).

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


class RETAIN(nn.Module):
    """The retain-v1 module of docs/model-contract.md (contract v2): RETAIN (Choi et al. 2016);
    with D > 0, the retain-mlp-v1 module (contract v3), whose visit embedding has a hidden
    ReLU layer of D units: v = embed(relu(embed_in(x))).

    Both GRUs read each sequence from its last real visit back to its first; padding (at the
    end) gets no attention.
    """

    def __init__(self, F, E, H, K, D=0):
        super().__init__()
        self.D = D
        if D:
            self.embed_in = nn.Linear(F, D)
        self.embed = nn.Linear(D or F, E)
        self.rnn_alpha = nn.GRU(E, H, batch_first=True)
        self.alpha = nn.Linear(H, 1)
        self.rnn_beta = nn.GRU(E, H, batch_first=True)
        self.beta = nn.Linear(H, E)
        self.out = nn.Linear(E, K)
        self.register_buffer("input_mean", torch.zeros(F))
        self.register_buffer("input_std", torch.ones(F))
        self.register_buffer("temperature", torch.ones(1))

    @staticmethod
    def _reverse(x, lengths):
        """Each sequence's real steps in reverse order, padding left at the end."""
        B, T = x.shape[0], x.shape[1]
        t = torch.arange(T).unsqueeze(0).expand(B, T)
        idx = torch.where(t < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - t, t)
        return torch.gather(x, 1, idx.unsqueeze(-1).expand_as(x))

    def forward(self, x, mask=None):
        """x: [B, T, F] standardized; mask: [B, T] bool (True = a real visit), or None.

        Returns (probabilities [B, K], alpha [B, T] in visit order)."""
        B, T, _ = x.shape
        lengths = mask.sum(1) if mask is not None else torch.full((B,), T, dtype=torch.long)
        v = self.embed(torch.relu(self.embed_in(x))) if self.D else self.embed(x)
        vr = self._reverse(v, lengths)
        g, _ = self.rnn_alpha(vr)
        h, _ = self.rnn_beta(vr)
        e = self.alpha(g).squeeze(-1)
        real = torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)
        e = e.masked_fill(~real, float("-inf"))
        a = torch.softmax(e, dim=1)
        beta = torch.tanh(self.beta(h))
        c = (a.unsqueeze(-1) * beta * vr).sum(dim=1)
        logits = self.out(c) / self.temperature
        return torch.softmax(logits, dim=-1), self._reverse(a.unsqueeze(-1), lengths).squeeze(-1)


def load(path):
    """Loads a Rounds model file of either architecture with load_state_dict(strict=True);
    returns (model, metadata).

    The optional tensors train_min/train_max (the raw range of each input column in the
    training data) are no module state: they are dropped before loading."""
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    arch = meta["architecture"]
    assert arch in ("gru-attention-v1", "retain-v1", "retain-mlp-v1"), arch
    state = load_file(path)
    for name in ("train_min", "train_max"):
        state.pop(name, None)
    D = state["embed_in.weight"].shape[0] if arch == "retain-mlp-v1" else 0
    F = state["embed_in.weight" if D else "embed.weight"].shape[1]
    E = state["embed.weight"].shape[0]
    K = state["out.weight"].shape[0]
    if arch in ("retain-v1", "retain-mlp-v1"):
        model = RETAIN(F, E, state["rnn_alpha.weight_hh_l0"].shape[1], K, D)
    else:
        model = GRUAttention(F, E, state["gru.weight_hh_l0"].shape[1], state["attn_proj.weight"].shape[0], K)
    model.load_state_dict(state, strict=True)
    model.eval()
    features, treatments = json.loads(meta["features"]), json.loads(meta["treatments"])
    assert len(features) == F and len(treatments) == K
    return model, meta
