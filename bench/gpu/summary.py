#!/usr/bin/env python3
"""Summary of a bench/gpu/run.sh output folder: WebGPU fused vs --no-fused, dispatches, GPU
bytes, Hugging Face PyTorch eager, and the checks against the issue's targets."""
import json
import pathlib
import sys


def load(path):
    try:
        lines = [l for l in path.read_text().splitlines() if l.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except OSError:
        return None


def report(out, suffix):
    w = load(out / f"webgpu{suffix}.json")
    h = load(out / f"hf{suffix}.json")
    if not w:
        p = out / f"webgpu{suffix}.err"
        err = p.read_text()[-2000:] if p.exists() else ""
        print("webgpu bench: no result\n" + err)
    else:
        f, s = w["fused"], w["stock"]
        print(f"backend: {w['backend']} - {w['reason']}")
        print(f"shape: {w['shape']} preset {w['preset']} layers {w['layers']}")
        print(f"fused   : median {f['medianMs']:.3f} ms (min {f['minMs']:.3f}), {f['dispatches']} dispatches")
        print(f"no-fused: median {s['medianMs']:.3f} ms (min {s['minMs']:.3f}), {s['dispatches']} dispatches")
        print(f"speedup fused vs no-fused: {w['speedup']:.2f}x")
        u = w.get("ungrouped")
        if u:
            print(f"ungrouped (our kernels stream by stream): median {u['medianMs']:.3f} ms "
                  f"(min {u['minMs']:.3f}), {u['dispatches']} dispatches; grouped speed-up "
                  f"{w['groupedSpeedup']:.2f}x")
        pl = w["dispatchesPerLayer"]
        print(f"dispatches per layer, fused: {pl['fused']}; ungrouped: {pl.get('ungrouped')}; "
              f"no-fused: {pl['stock']}")
        print(f"GPU bytes: {w['gpuBytes']}")
        worst = max(pl["fused"]["language"], pl["fused"]["vision"], pl["fused"]["cross"])
        per_query = f["medianMs"] / max(1, w["shape"]["batch"])
        print("targets: <=4 ms per query %s (%.3f ms); >=4x %s; <=10 dispatches per layer, cross "
              "layers with both streams %s" % (per_query <= 4, per_query, w["speedup"] >= 4, worst <= 10))
    if h and "median_ms" in h:
        print(f"HF PyTorch eager ({h['device']}, torch {h['torch']}, transformers {h['transformers']}): "
              f"median {h['median_ms']:.3f} ms (min {h['min_ms']:.3f})")
        if w:
            print(f"ratio HF eager / WebGPU fused: {h['median_ms'] / w['fused']['medianMs']:.2f}")
    else:
        print(f"HF PyTorch eager: {h.get('error') if h else 'no result'}")
    d, dt = load(out / "detector.json"), load(out / "detector_torch.json")
    if d:
        print(f"detector ({d['backend']}, image {d['image_hw']}): median {d['median_ms']:.1f} ms per image, "
              f"{d['num_detections']} detections, {d.get('dispatches')} dispatches, {d.get('read_backs')} read-backs, "
              f"peak tensors {d['peak_tensor_bytes'] / 2**20:.0f} MiB, GPU {d.get('gpu_bytes_allocated', 0) / 2**20:.0f} MiB allocated")
        steps = d.get("steps") or {}
        for name, c in steps.items():
            print(f"  {name:<10} {c['dispatches']:5d} dispatches, {c['readBacks']:2d} read-backs ({c['readBackBytes']} B), "
                  f"GPU peak {c['peakGpuBytesInUse'] / 2**20:.0f} MiB in use / {c['peakGpuBytesAllocated'] / 2**20:.0f} MiB allocated, "
                  f"tensors {c['peakTensorBytes'] / 2**20:.0f} MiB")
        if steps:
            gpu_peak = max(c["peakGpuBytesAllocated"] for c in steps.values())
            inside = sum(steps[s]["readBacks"] for s in ("backbone", "roiPool", "res5") if s in steps)
            print(f"detector targets: peak GPU memory {gpu_peak / 2**20:.0f} MiB allocated (<= 1536 MiB: {gpu_peak <= 1.5 * 2**30}); "
                  f"read-backs inside backbone/RoIPool/res5: {inside} (target 0: {inside == 0})")
    elif (out / "detector.err").exists():
        print("detector: no result\n" + (out / "detector.err").read_text()[-1500:])
    d15 = load(out / "detector.b15.json")
    if d15:
        steps15 = d15.get("steps") or {}
        gpu15 = max((c["peakGpuBytesAllocated"] for c in steps15.values()), default=0)
        print(f"detector with tf.js's submit batch 15: median {d15['median_ms']:.1f} ms per image, "
              f"peak GPU memory {gpu15 / 2**20:.0f} MiB allocated")
    if dt:
        print(f"detector PyTorch port ({dt['backend']}): median {dt['median_ms']:.1f} ms per image")
        if d:
            print(f"ratio WebGPU / PyTorch: {d['median_ms'] / dt['median_ms']:.2f}")


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print((out / "machine.txt").read_text().strip() if (out / "machine.txt").exists() else "")
    batches = sorted(int(p.name[len("webgpu.b"):-len(".json")]) for p in out.glob("webgpu.b*.json"))
    for b in batches:
        print(f"--- batch {b}")
        report(out, f".b{b}")
    if not batches:
        report(out, "")


if __name__ == "__main__":
    main()
