#!/usr/bin/env python3
"""Exports bench/torch_lxmert.py's LXMERT VQA path (lxmert-base shapes, seeded random weights) to
ONNX, for ONNX Runtime Web in the browser benchmark (bench/browser/run.mjs). The file is
generated, never committed: default output .bench/onnx/lxmert-vqa.onnx (git-ignored).

Inputs (fixed shapes, as the benchmark runs them): input_ids int64 [B, T], attention_mask int64
[B, T], visual_feats float32 [B, V, 2048], visual_pos float32 [B, V, 4]; output
question_answering_score float32 [B, 3129].

Usage: /usr/bin/python3 bench/export_onnx.py [--out PATH] [--batch 1] [--tokens 20] [--boxes 36]
       [--opset 17]
Needs Debian's python3-torch (the TorchScript exporter; the onnx package is not needed).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_lxmert import Lxmert, random_inputs  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '.bench', 'onnx', 'lxmert-vqa.onnx'))
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--tokens', type=int, default=20)
    p.add_argument('--boxes', type=int, default=36)
    p.add_argument('--opset', type=int, default=17)
    a = p.parse_args()
    for name in ('batch', 'tokens', 'boxes'):
        if not 1 <= getattr(a, name) <= 512:
            p.error(f'--{name}: expected 1..512, got {getattr(a, name)}')
    torch.manual_seed(0)
    model = Lxmert().eval()
    ids, mask, feats, boxes = random_inputs(a.batch, a.tokens, a.boxes)
    out = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + '.tmp'
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask, feats, boxes),
            tmp,
            input_names=['input_ids', 'attention_mask', 'visual_feats', 'visual_pos'],
            output_names=['question_answering_score'],
            opset_version=a.opset,
            do_constant_folding=True,
        )
    os.replace(tmp, out)
    print(f'{out}: {os.path.getsize(out) / 2**20:.1f} MiB, opset {a.opset}, '
          f'batch {a.batch}, {a.tokens} tokens, {a.boxes} boxes')


if __name__ == '__main__':
    main()
