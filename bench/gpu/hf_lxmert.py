#!/usr/bin/env python3
"""Hugging Face's LxmertForQuestionAnswering in PyTorch eager, float32, at the WebGPU benchmark's
shapes (lxmert-base, 3129 answers, batch 1, 20 tokens, 36 boxes, seeded random weights): the
peer that bench/gpu/run.sh times on the same GPU in the same call. Prints one JSON line.

Usage: python3 bench/gpu/hf_lxmert.py [--tokens 20] [--boxes 36] [--batch 1] [--runs 50]
       [--warmup 5] [--device cuda|cpu]
"""
import argparse
import json
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=20)
    p.add_argument("--boxes", type=int, default=36)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default=None)
    a = p.parse_args()
    try:
        import torch
        import transformers
        from transformers import LxmertConfig, LxmertForQuestionAnswering
    except Exception as e:  # noqa: BLE001 - report and exit cleanly
        print(json.dumps({"error": f"torch/transformers unavailable: {e}"}))
        return 1
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = LxmertForQuestionAnswering(LxmertConfig(num_qa_labels=3129)).eval().to(device)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30522, (a.batch, a.tokens), generator=g)
    feats = torch.rand(a.batch, a.boxes, 2048, generator=g)
    xy = torch.rand(a.batch, a.boxes, 2, generator=g) * 0.5
    pos = torch.cat([xy, xy + 0.05 + torch.rand(a.batch, a.boxes, 2, generator=g) * 0.45], -1)
    batch = dict(
        input_ids=ids.to(device),
        attention_mask=torch.ones_like(ids).to(device),
        visual_feats=feats.to(device),
        visual_pos=pos.to(device),
    )

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    times = []
    with torch.no_grad():
        for _ in range(a.warmup):
            model(**batch)
        sync()
        for _ in range(a.runs):
            t0 = time.perf_counter()
            model(**batch).question_answering_score
            sync()
            times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "shape": {"batch": a.batch, "tokens": a.tokens, "boxes": a.boxes},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
