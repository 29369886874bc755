"""An eager PyTorch port of Hugging Face's LXMERT-demo detector (GeneralizedRCNN of
examples/research_projects/lxmert/modeling_frcnn.py), written from
shared/fixtures/frcnn-narrow/README.md: the PyTorch CPU peer of `lxmert bench --detector`.

HF's modeling_frcnn.py is not pip-installable and cannot be downloaded here, so this is our own
port with the same operations (torch conv2d, eval batch norm unfused as HF runs it, ceil-mode
max pool, torchvision roi_pool and nms). `--check DIR` proves it is the same computation: it
reproduces the frcnn-narrow goldens stage by stage, each stage fed the golden input of that
stage, with the README's tolerances, and end to end.

  python3 bench/frcnn_torch.py --check test/fixtures/frcnn-narrow
  python3 bench/frcnn_torch.py --detector DIR --image IMG [--runs 3] [--warmup 1] [--json]

Debian's python3-torch / python3-torchvision (1.13 / 0.14), Pillow, PyYAML; float32, CPU.
"""
import argparse
import json
import math
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
import yaml
from PIL import Image

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        arr = np.frombuffer(buf, dtype=DTYPES[e["dtype"]], count=(b - a) // np.dtype(DTYPES[e["dtype"]]).itemsize, offset=8 + n + a)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def load_weights(folder):
    import os

    st = os.path.join(folder, "model.safetensors")
    if os.path.exists(st):
        return read_safetensors(st)
    return torch.load(os.path.join(folder, "pytorch_model.bin"), map_location="cpu")


class Frcnn:
    """The detector as functions over HF's state_dict (names as in modeling_frcnn.py)."""

    def __init__(self, cfg, w, device="cpu"):
        self.cfg = cfg
        self.device = device
        self.w = {k: v.float() if v.is_floating_point() else v for k, v in w.items()}
        r = cfg["resnets"]
        self.blocks = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}[r["depth"]]
        self.stride_in_1x1 = r["stride_in_1x1"]
        self.res5_dilation = 1 if cfg["roi_box_head"]["res5halve"] else 2
        self.mean = torch.tensor(cfg["model"]["pixel_mean"], device=device).view(3, 1, 1)
        self.std = torch.tensor(cfg["model"]["pixel_std"], device=device).view(3, 1, 1)

    # -- layers --------------------------------------------------------------------------------
    calibrating = False

    def conv_bn(self, x, p, stride=1, padding=0, dilation=1, relu=True):
        w = self.w
        x = F.conv2d(x, w[p + ".weight"], None, stride, padding, dilation)
        if self.calibrating:  # data-dependent BatchNorm statistics (see calibrate())
            w[p + ".norm.running_mean"] = x.mean(dim=(0, 2, 3))
            w[p + ".norm.running_var"] = x.var(dim=(0, 2, 3)) + 1e-3
        x = F.batch_norm(x, w[p + ".norm.running_mean"], w[p + ".norm.running_var"], w[p + ".norm.weight"], w[p + ".norm.bias"], False, 0.0, 1e-5)
        return F.relu_(x) if relu else x

    def bottleneck(self, x, p, stride, dilation, shortcut):
        s1, s3 = (stride, 1) if self.stride_in_1x1 else (1, stride)
        sc = self.conv_bn(x, p + ".shortcut", stride, relu=False) if shortcut else x
        y = self.conv_bn(x, p + ".conv1", s1)
        y = self.conv_bn(y, p + ".conv2", s3, padding=dilation, dilation=dilation)
        y = self.conv_bn(y, p + ".conv3", relu=False)
        return F.relu_(y + sc)

    # -- stages --------------------------------------------------------------------------------
    def preprocess(self, rgb):
        """uint8 H x W x 3 (R,G,B) → (input 1x3xHxW B,G,R minus mean, image_size, scales_yx)."""
        h, w = rgb.shape[:2]
        mn, mx = self.cfg["input"]["min_size_test"], self.cfg["input"]["max_size_test"]
        scale = mn / min(h, w)
        newh, neww = (mn, scale * w) if h < w else (scale * h, mn)
        if max(newh, neww) > mx:
            s = mx / max(newh, neww)
            newh, neww = newh * s, neww * s
        newh, neww = int(newh + 0.5), int(neww + 0.5)
        img = torch.from_numpy(rgb[:, :, ::-1].copy()).permute(2, 0, 1).float()[None].to(self.device)  # B,G,R
        img = F.interpolate(img, (newh, neww), mode="bilinear", align_corners=False)[0]
        x = ((img - self.mean) / self.std)[None]
        scales = torch.tensor([h / newh, w / neww], dtype=torch.float32, device=self.device)
        return x, (newh, neww), (h, w), scales

    def backbone(self, x):
        x = self.conv_bn(x, "backbone.stem.conv1", 2, 3)
        x = F.max_pool2d(x, 3, 2, 0, ceil_mode=True)
        for s, n in enumerate(self.blocks[:3]):
            for i in range(n):
                stride = 2 if (i == 0 and s > 0) else 1
                x = self.bottleneck(x, f"backbone.res{s + 2}.{i}", stride, 1, i == 0)
        return x

    def rpn_head(self, res4):
        w, p = self.w, "proposal_generator.rpn_head"
        t = F.relu(F.conv2d(res4, w[p + ".conv.weight"], w[p + ".conv.bias"], padding=1))
        return (F.conv2d(t, w[p + ".objectness_logits.weight"], w[p + ".objectness_logits.bias"]),
                F.conv2d(t, w[p + ".anchor_deltas.weight"], w[p + ".anchor_deltas.bias"]))

    def anchors(self, hf, wf):
        ag = self.cfg["anchor_generator"]
        cell = []
        for size in ag["sizes"][0]:
            for ratio in ag["aspect_ratios"][0]:
                aw = math.sqrt(size * size / ratio)
                ah = ratio * aw
                cell.append([-aw / 2, -ah / 2, aw / 2, ah / 2])
        cell = torch.tensor(cell, dtype=torch.float64).float().to(self.device)
        sx = torch.arange(0, wf * 16, 16, dtype=torch.float32, device=self.device)
        sy = torch.arange(0, hf * 16, 16, dtype=torch.float32, device=self.device)
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        shifts = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.reshape(-1), yy.reshape(-1)], 1)
        return (shifts.view(-1, 1, 4) + cell.view(1, -1, 4)).reshape(-1, 4)

    @staticmethod
    def decode(deltas, boxes, weights):
        clamp = math.log(1000.0 / 16)
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        cx = boxes[:, 0] + 0.5 * w
        cy = boxes[:, 1] + 0.5 * h
        wx, wy, ww, wh = weights
        dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
        dw = torch.clamp(deltas[:, 2] / ww, max=clamp)
        dh = torch.clamp(deltas[:, 3] / wh, max=clamp)
        pcx, pcy = dx * w + cx, dy * h + cy
        pw, ph = torch.exp(dw) * w, torch.exp(dh) * h
        return torch.stack([pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw, pcy + 0.5 * ph], 1)

    @staticmethod
    def clip(boxes, hw):
        h, w = hw
        return torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h), boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], 1)

    def proposals(self, logits, deltas, hw):
        a = logits.shape[1]
        hf, wf = logits.shape[2:]
        lg = logits.permute(0, 2, 3, 1).reshape(-1)
        dl = deltas.view(1, a, 4, hf, wf).permute(0, 3, 4, 1, 2).reshape(-1, 4)
        anchors = self.anchors(hf, wf)
        decoded = self.decode(dl, anchors, self.cfg["rpn"]["bbox_reg_weights"])
        k = min(self.cfg["rpn"]["pre_nms_topk_test"], lg.numel())
        top_logits, top_idx = lg.sort(descending=True)
        top_logits, top_idx = top_logits[:k], top_idx[:k]
        boxes = self.clip(decoded[top_idx], hw)
        ok = ((boxes[:, 2] - boxes[:, 0]) > 0) & ((boxes[:, 3] - boxes[:, 1]) > 0)
        boxes, top_logits = boxes[ok], top_logits[ok]
        keep_all = torchvision.ops.nms(boxes, top_logits, self.cfg["rpn"]["nms_thresh"])
        keep = keep_all[: self.cfg["rpn"]["post_nms_topk_test"]]
        return dict(anchors=anchors, rpn_decoded=decoded, rpn_topk_idx=top_idx, rpn_nms_keep=keep_all,
                    proposals=boxes[keep], proposal_logits=top_logits[keep])

    def roi_pool(self, res4, boxes):
        r = self.cfg["roi_box_head"]["pooler_resolution"]
        return torchvision.ops.roi_pool(res4, [boxes], (r, r), 1.0 / 16)

    def res5(self, pooled, chunk=None):
        outs = []
        chunk = chunk or max(1, pooled.shape[0])
        for c in range(0, pooled.shape[0], chunk):
            x = pooled[c : c + chunk]
            for i in range(self.blocks[3]):
                x = self.bottleneck(x, f"roi_heads.res5.{i}", 1, self.res5_dilation, i == 0)
            outs.append(x.mean(dim=(2, 3)))
        return torch.cat(outs)

    def predictor(self, f):
        w, p = self.w, "roi_heads.box_predictor"
        obj = F.linear(f, w[p + ".cls_score.weight"], w[p + ".cls_score.bias"])
        deltas = F.linear(f, w[p + ".bbox_pred.weight"], w[p + ".bbox_pred.bias"])
        e = w[p + ".cls_embedding.weight"][obj.argmax(1)]
        hdn = F.relu(F.linear(torch.cat([f, e], 1), w[p + ".fc_attr.weight"], w[p + ".fc_attr.bias"]))
        attr = F.linear(hdn, w[p + ".attr_score.weight"], w[p + ".attr_score.bias"])
        return obj, attr, deltas

    def select(self, obj, attr, deltas, proposals, box_features, hw, raw_hw, scales):
        n = self.cfg["min_detections"]
        m = self.cfg["max_detections"]
        p = F.softmax(obj, -1)[:, :-1]
        scores, classes = p.max(1)
        d = deltas.view(deltas.shape[0], -1, 4)[torch.arange(deltas.shape[0], device=deltas.device), classes]
        boxes = self.clip(self.decode(d, proposals, self.cfg["roi_box_head"]["bbox_reg_weights"]), hw)
        for thr in self.cfg["roi_heads"]["nms_thresh_test"]:
            keep_all = torchvision.ops.nms(boxes, scores, thr)
            if keep_all.numel() >= n:
                break
        keep = keep_all[:m]
        ap = F.softmax(attr[:, :-1], -1)
        attr_probs, attr_ids = ap.max(1)
        sy, sx = scales[0], scales[1]
        out_boxes = boxes[keep] * torch.stack([sx, sy, sx, sy])
        hw_raw = torch.tensor(hw, dtype=torch.float32, device=scales.device) * scales
        norm = out_boxes / torch.stack([hw_raw[1], hw_raw[0], hw_raw[1], hw_raw[0]])
        return dict(det_max_classes=classes, det_max_scores=scores, det_max_boxes=boxes, det_nms_keep=keep_all,
                    det_keep=keep, det_nms_threshold=torch.tensor(thr), boxes=out_boxes[None], obj_ids=classes[keep][None],
                    obj_probs=scores[keep][None], attr_ids=attr_ids[keep][None], attr_probs=attr_probs[keep][None],
                    roi_features=box_features[keep][None], normalized_boxes=norm[None])

    def detect(self, rgb, chunk=None):
        x, hw, raw_hw, scales = self.preprocess(rgb)
        res4 = self.backbone(x)
        logits, deltas = self.rpn_head(res4)
        rp = self.proposals(logits, deltas, hw)
        f = self.res5(self.roi_pool(res4, rp["proposals"]), chunk)
        obj, attr, bd = self.predictor(f)
        out = self.select(obj, attr, bd, rp["proposals"], f, hw, raw_hw, scales)
        out.update(input=x, res4=res4, rpn_objectness_logits=logits, rpn_anchor_deltas=deltas, box_features=f, **rp)
        return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = tensors[name].contiguous().numpy()
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def calibrate(folder, image):
    """Random weights at full width blow activations up (res4 ~ 1e2, RPN logits ~ 4e2, no box
    survives clipping): set every BatchNorm's running statistics to its conv output's statistics
    on `image` (as data-dependent init does) and scale the RPN and predictor outputs to realistic
    ranges, then rewrite DIR/model.safetensors. Both benchmarks then read the same weights."""
    cfg = yaml.safe_load(open(f"{folder}/config.yaml"))
    m = Frcnn(cfg, load_weights(folder))
    rgb = np.array(Image.open(image).convert("RGB"))
    w, rpn, bp = m.w, "proposal_generator.rpn_head", "roi_heads.box_predictor"
    with torch.no_grad():
        m.calibrating = True
        x, hw, _, _ = m.preprocess(rgb)
        res4 = m.backbone(x)
        m.calibrating = False
        t = F.relu(F.conv2d(res4, w[rpn + ".conv.weight"], w[rpn + ".conv.bias"], padding=1))
        for k, std in (("objectness_logits", 2.0), ("anchor_deltas", 0.2)):
            y = F.conv2d(t, w[f"{rpn}.{k}.weight"])
            w[f"{rpn}.{k}.weight"] *= std / float(y.std())
            w[f"{rpn}.{k}.bias"] *= 0.1
        lg, dl = m.rpn_head(res4)
        rp = m.proposals(lg, dl, hw)
        m.calibrating = True
        f = m.res5(m.roi_pool(res4, rp["proposals"]))
        m.calibrating = False
        for k, std in (("cls_score", 2.0), ("bbox_pred", 0.5)):
            y = F.linear(f, w[f"{bp}.{k}.weight"])
            w[f"{bp}.{k}.weight"] *= std / float(y.std())
        out = m.detect(rgb)
    write_safetensors(f"{folder}/model.safetensors", m.w)
    print(f"calibrated {folder}: res4 mean |x| {float(res4.abs().mean()):.2f}, {rp['proposals'].shape[0]} proposals, "
          f"{int(out['det_keep'].numel())} detections at NMS {float(out['det_nms_threshold']):.1f}")


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def max_abs(a, b):
    return float((a.double() - b.double()).abs().max())


def iou_match(a, b, thr):
    """Greedy one-to-one match of boxes a to b by IoU > thr: list of (i, j)."""
    iou = torchvision.ops.box_iou(a, b)
    pairs, used = [], set()
    for i in range(a.shape[0]):
        order = torch.argsort(iou[i], descending=True)
        for j in order.tolist():
            if iou[i, j] <= thr:
                break
            if j not in used:
                used.add(j)
                pairs.append((i, j))
                break
    return pairs


def check(folder):
    cfg = yaml.safe_load(open(f"{folder}/config.yaml"))
    g = read_safetensors(f"{folder}/golden.safetensors")
    model = Frcnn(cfg, load_weights(folder))
    results, ok = [], True

    def report(name, value, limit, passed=None):
        nonlocal ok
        passed = (value <= limit) if passed is None else passed
        ok &= bool(passed)
        results.append(f"{'ok ' if passed else 'BAD'} {name}: {value:.3g} (limit {limit})")

    for img in ("img_a", "img_b"):
        G = {k.split("/", 1)[1]: v for k, v in g.items() if k.startswith(img + "/")}
        rgb = np.array(Image.open(f"{folder}/{img}.png").convert("RGB"))
        hw = tuple(int(v) for v in G["image_size"])
        with torch.no_grad():
            # A: each stage fed the golden input of that stage
            x, *_ = model.preprocess(rgb)
            report(f"{img} input max_abs", max_abs(x, G["input"]), 5e-3)
            report(f"{img} input rel_l2", rel_l2(x, G["input"]), 1e-5)
            report(f"{img} res4 rel_l2", rel_l2(model.backbone(G["input"]), G["res4"]), 1e-5)
            lg, dl = model.rpn_head(G["res4"])
            report(f"{img} rpn logits rel_l2", rel_l2(lg, G["rpn_objectness_logits"]), 1e-5)
            report(f"{img} rpn deltas rel_l2", rel_l2(dl, G["rpn_anchor_deltas"]), 1e-5)
            rp = model.proposals(G["rpn_objectness_logits"], G["rpn_anchor_deltas"], hw)
            report(f"{img} anchors exact", max_abs(rp["anchors"], G["anchors"]), 0.0)
            report(f"{img} rpn_decoded max_abs px", max_abs(rp["rpn_decoded"], G["rpn_decoded"]), 1e-3)
            same = rp["rpn_nms_keep"].shape == G["rpn_nms_keep"].shape and bool((rp["rpn_nms_keep"] == G["rpn_nms_keep"]).all())
            report(f"{img} rpn_nms_keep exact ({rp['rpn_nms_keep'].numel()})", 0.0 if same else 1.0, 0.0)
            report(f"{img} proposals exact", max_abs(rp["proposals"], G["proposals"]), 0.0)
            pooled = model.roi_pool(G["res4"], G["proposals"][:16])
            report(f"{img} roi_pooled exact", max_abs(pooled, G["roi_pooled"]), 0.0)
            report(f"{img} box_features rel_l2", rel_l2(model.res5(G["roi_pooled"]), G["box_features"][:16]), 1e-5)
            obj, attr, bd = model.predictor(G["box_features"])
            report(f"{img} obj_logits rel_l2", rel_l2(obj[:8], G["obj_logits"]), 1e-5)
            report(f"{img} attr_logits rel_l2", rel_l2(attr[:8], G["attr_logits"]), 1e-5)
            report(f"{img} bbox_deltas rel_l2", rel_l2(bd[:8], G["bbox_deltas"]), 1e-5)
            s = model.select(obj, attr, bd, G["proposals"], G["box_features"], hw, None, G["scales_yx"])
            for k in ("det_max_classes", "det_keep", "obj_ids", "attr_ids"):
                same = s[k].shape == G[k].shape and bool((s[k] == G[k]).all())
                report(f"{img} {k} exact", 0.0 if same else 1.0, 0.0)
            for k in ("det_max_scores", "obj_probs", "attr_probs"):
                report(f"{img} {k} max_abs", max_abs(s[k], G[k]), 1e-6)
            for k in ("det_max_boxes", "boxes"):
                report(f"{img} {k} max_abs px", max_abs(s[k], G[k]), 1e-3)
            report(f"{img} normalized_boxes max_abs", max_abs(s["normalized_boxes"], G["normalized_boxes"]), 1e-5)
            # B: end to end, PNG → final, discrete results compared as sets
            e = model.detect(rgb)
            for k in ("res4", "rpn_objectness_logits", "rpn_anchor_deltas"):
                report(f"{img} e2e {k} rel_l2", rel_l2(e[k], G[k]), 1e-4)
            report(f"{img} e2e proposals matched", len(iou_match(G["proposals"], e["proposals"], 0.99)), 300, passed=len(iou_match(G["proposals"], e["proposals"], 0.99)) == 300)
            pairs = iou_match(G["boxes"][0], e["boxes"][0], 0.99)
            report(f"{img} e2e final boxes matched", len(pairs), 36, passed=len(pairs) == 36)
            gi, oi = [p[0] for p in pairs], [p[1] for p in pairs]
            report(f"{img} e2e boxes max_abs px", max_abs(e["boxes"][0][oi], G["boxes"][0][gi]), 1e-2)
            report(f"{img} e2e roi_features rel_l2", rel_l2(e["roi_features"][0][oi], G["roi_features"][0][gi]), 1e-4)
            for k in ("obj_probs", "attr_probs"):
                report(f"{img} e2e {k} max_abs", max_abs(e[k][0][oi], G[k][0][gi]), 1e-4)
            report(f"{img} e2e normalized_boxes max_abs", max_abs(e["normalized_boxes"][0][oi], G["normalized_boxes"][0][gi]), 1e-5)
            for k, gap in (("obj_ids", "obj_logit_gap"), ("attr_ids", "attr_logit_gap")):
                bad = sum(1 for a, b in pairs if e[k][0][b] != G[k][0][a] and G[gap][a] >= 1e-3)
                report(f"{img} e2e {k} differing", float(bad), 0.0)
    print("\n".join(results))
    print("check:", "all stages within the README's tolerances" if ok else "FAILED")
    return ok


def bench(args):
    torch.set_num_threads(args.threads) if args.threads else None
    dev = "cuda" if args.device == "auto" and torch.cuda.is_available() else ("cpu" if args.device == "auto" else args.device)
    cfg = yaml.safe_load(open(f"{args.detector}/config.yaml"))
    t0 = time.perf_counter()
    model = Frcnn(cfg, {k: v.to(dev) for k, v in load_weights(args.detector).items()}, dev)
    load_ms = (time.perf_counter() - t0) * 1000
    rgb = np.array(Image.open(args.image).convert("RGB"))
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.runs):
            s = time.perf_counter()
            out = model.detect(rgb)
            if dev == "cuda":
                torch.cuda.synchronize()
            if i >= args.warmup:
                times.append((time.perf_counter() - s) * 1000)
    times.sort()
    r = dict(median_ms=float(np.median(times)), min_ms=times[0], max_ms=times[-1], backend=f"torch-{dev}" + (f"-{torch.get_num_threads()}t" if dev == "cpu" else ""),
             image_hw=list(rgb.shape[:2]), resized_hw=list(out["input"].shape[2:]), num_detections=int(out["det_keep"].numel()),
             peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, load_ms=load_ms, torch=torch.__version__)
    print(f"PyTorch {torch.__version__} eager CPU ({torch.get_num_threads()} threads): image {rgb.shape[1]}x{rgb.shape[0]} → input {tuple(out['input'].shape[2:])}; "
          f"median {r['median_ms']:.0f} ms (min {r['min_ms']:.0f}, max {r['max_ms']:.0f}) per image; peak RSS {r['peak_rss_mib']:.0f} MiB")
    if args.json:
        print(json.dumps(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="DIR")
    ap.add_argument("--calibrate", action="store_true", help="with --detector and --image: see calibrate()")
    ap.add_argument("--detector", metavar="DIR")
    ap.add_argument("--image")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, or auto (cuda when available)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.check:
        sys.exit(0 if check(args.check) else 1)
    if not (args.detector and args.image):
        ap.error("give --check DIR, or --detector DIR and --image IMG")
    if args.calibrate:
        calibrate(args.detector, args.image)
        return
    bench(args)


if __name__ == "__main__":
    main()
