#!/usr/bin/env bash
# Item 8 of issue 9: the full-size detector (seeded random weights with the real shapes) on a
# 640x480 picture resized to 800x1067, `lxmert bench --detector` on wasm against our eager
# PyTorch port (bench/frcnn_torch.py, checked against the narrow goldens) on the same CPU, same
# weights, same image, alternating in one run; prints both and the ratio (target <= 2x).
# Needs a build (npm run build) and Debian's python3-torch, python3-torchvision, python3-pil.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/lxmert-frcnn-full}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-2}
PY=${PY:-/usr/bin/python3}
[ -f "$DIR/model.safetensors" ] || node bench/make_random_detector.mjs "$DIR" 0
"$PY" bench/frcnn_torch.py --check test/fixtures/frcnn-narrow | tail -1
for round in $(seq "$ROUNDS"); do
  "$PY" bench/frcnn_torch.py --detector "$DIR" --image "$DIR/image.png" --runs "$RUNS" --warmup "$WARMUP" --json \
    | tee /dev/stderr | tail -1 > "/tmp/lxmert-frcnn-torch.$round.json"
  node bin/lxmert.js bench --detector "$DIR" --image "$DIR/image.png" --backend wasm --runs "$RUNS" --warmup "$WARMUP" --json \
    | tee /dev/stderr | tail -1 > "/tmp/lxmert-frcnn-wasm.$round.json"
done
ROUNDS=$ROUNDS node -e '
const fs = require("fs");
const w = [], t = [];
for (let r = 1; r <= Number(process.env.ROUNDS); r++) {
  w.push(JSON.parse(fs.readFileSync(`/tmp/lxmert-frcnn-wasm.${r}.json`)));
  t.push(JSON.parse(fs.readFileSync(`/tmp/lxmert-frcnn-torch.${r}.json`)));
}
w.forEach((x, i) => console.log(`round ${i + 1}: wasm ${x.median_ms.toFixed(0)} ms (peak RSS ${x.peak_rss_mib.toFixed(0)} MiB), ${t[i].backend} ${t[i].median_ms.toFixed(0)} ms (peak RSS ${t[i].peak_rss_mib.toFixed(0)} MiB), ratio ${(x.median_ms / t[i].median_ms).toFixed(2)}`));
const mw = Math.min(...w.map((x) => x.median_ms)), mt = Math.min(...t.map((x) => x.median_ms));
console.log(`best medians: wasm ${mw.toFixed(0)} ms / torch ${mt.toFixed(0)} ms = ${(mw / mt).toFixed(2)}x (target <= 2x)`);
'
