#!/usr/bin/env python3
"""PyTorch eager peer of `lxmert bench`: LXMERT's VQA path (encoders + pooler + answer head)
at the same shapes, with seeded random weights, timed the same way (warm-up, then median/min/max).

Hugging Face transformers is not installable here (no PyPI), so this is a plain-PyTorch LXMERT of
the same structure and operation count as HF's modeling_lxmert.py: post-LN BERT layers, shared
cross-attention module used in both directions, exact GELU, the same Linear shapes.

Usage: python3 bench/torch_lxmert.py [--tokens 20] [--boxes 36] [--batch 1] [--runs 20]
       [--warmup 3] [--threads N] [--json]
Debian: apt-get install python3-torch libopenblas0-pthread; run with /usr/bin/python3.
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn

H, HEADS, INTER, FEAT, POS = 768, 12, 3072, 2048, 4
L_LAYERS, R_LAYERS, X_LAYERS, VOCAB, MAXPOS, QA = 9, 5, 5, 30522, 512, 3129


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.dense, self.norm = nn.Linear(H, H), nn.LayerNorm(H, eps=1e-12)

    def forward(self, x, ctx, mask):
        b, lq, _ = x.shape
        lk = ctx.shape[1]
        dh = H // HEADS
        q = self.query(x).view(b, lq, HEADS, dh).transpose(1, 2)
        k = self.key(ctx).view(b, lk, HEADS, dh).transpose(1, 2)
        v = self.value(ctx).view(b, lk, HEADS, dh).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(dh)
        if mask is not None:
            s = s + mask
        c = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, lq, H)
        return self.norm(self.dense(c) + x)


class FFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.inter, self.out, self.norm = nn.Linear(H, INTER), nn.Linear(INTER, H), nn.LayerNorm(H, eps=1e-12)

    def forward(self, x):
        return self.norm(self.out(nn.functional.gelu(self.inter(x))) + x)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.att, self.ffn = Attention(), FFN()

    def forward(self, x, mask):
        return self.ffn(self.att(x, x, mask))


class XLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.cross, self.lang_self, self.visn_self = Attention(), Attention(), Attention()
        self.lang_ffn, self.visn_ffn = FFN(), FFN()

    def forward(self, lang, lmask, visn, vmask):
        l2 = self.cross(lang, visn, vmask)
        v2 = self.cross(visn, lang, lmask)
        l3, v3 = self.lang_self(l2, l2, lmask), self.visn_self(v2, v2, vmask)
        return self.lang_ffn(l3), self.visn_ffn(v3)


class Lxmert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(VOCAB, H), nn.Embedding(MAXPOS, H), nn.Embedding(2, H)
        self.emb_norm = nn.LayerNorm(H, eps=1e-12)
        self.visn_fc, self.visn_norm = nn.Linear(FEAT, H), nn.LayerNorm(H, eps=1e-12)
        self.box_fc, self.box_norm = nn.Linear(POS, H), nn.LayerNorm(H, eps=1e-12)
        self.l_layers = nn.ModuleList([Layer() for _ in range(L_LAYERS)])
        self.r_layers = nn.ModuleList([Layer() for _ in range(R_LAYERS)])
        self.x_layers = nn.ModuleList([XLayer() for _ in range(X_LAYERS)])
        self.pooler = nn.Linear(H, H)
        self.head0, self.head_norm, self.head3 = nn.Linear(H, 2 * H), nn.LayerNorm(2 * H, eps=1e-12), nn.Linear(2 * H, QA)

    def forward(self, ids, mask, feats, boxes):
        l = ids.shape[1]
        lang = self.emb_norm(self.word(ids) + self.pos(torch.arange(l)) + self.token_type(torch.zeros_like(ids)))
        lmask = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        visn = (self.visn_norm(self.visn_fc(feats)) + self.box_norm(self.box_fc(boxes))) / 2
        for layer in self.l_layers:
            lang = layer(lang, lmask)
        for layer in self.r_layers:
            visn = layer(visn, None)
        for layer in self.x_layers:
            lang, visn = layer(lang, lmask, visn, None)
        pooled = torch.tanh(self.pooler(lang[:, 0]))
        return self.head3(self.head_norm(nn.functional.gelu(self.head0(pooled))))


def random_inputs(batch, tokens, boxes):
    """Random inputs from torch's current seed: input_ids, attention_mask, visual_feats (ReLU'd
    like detector features) and visual_pos (x1, y1, x2, y2 in [0, 1])."""
    ids = torch.randint(1000, VOCAB, (batch, tokens))
    mask = torch.ones(batch, tokens, dtype=torch.long)
    feats = torch.relu(torch.randn(batch, boxes, FEAT))
    xy = torch.rand(batch, boxes, 2) * 0.5
    pos = torch.cat([xy, xy + 0.05 + torch.rand(batch, boxes, 2) * 0.45], -1)
    return ids, mask, feats, pos


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--tokens', type=int, default=20)
    p.add_argument('--boxes', type=int, default=36)
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: PyTorch default)')
    p.add_argument('--json', action='store_true')
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Lxmert().eval()
    ids, mask, feats, boxes = random_inputs(a.batch, a.tokens, a.boxes)
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.runs):
            s = time.perf_counter()
            model(ids, mask, feats, boxes)
            if i >= a.warmup:
                times.append((time.perf_counter() - s) * 1000)
    r = {'median_ms': statistics.median(times), 'min_ms': min(times), 'max_ms': max(times),
         'backend': f'torch {torch.__version__} eager, {torch.get_num_threads()} threads'}
    print(f"torch {torch.__version__} eager ({torch.get_num_threads()} threads): median {r['median_ms']:.2f} ms, "
          f"min {r['min_ms']:.2f} ms, max {r['max_ms']:.2f} ms")
    if a.json:
        print(json.dumps(r))


if __name__ == '__main__':
    main()
