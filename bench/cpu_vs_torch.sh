#!/usr/bin/env bash
# The issue-2 CPU target: `lxmert bench` (wasm, lxmert-base shapes, VQA path) against the PyTorch
# eager peer (bench/torch_lxmert.py) on the same CPU in the same run, alternating, and the ratio.
# Needs Debian's python3-torch (apt-get install python3-torch libopenblas0-pthread) and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
PY=${PY:-/usr/bin/python3}
for round in 1 2; do
  node bin/lxmert.js bench --random vqa --backend wasm --runs "$RUNS" --json | tail -1 > /tmp/lxmert-wasm.$round.json
  "$PY" bench/torch_lxmert.py --runs "$RUNS" --json | tail -1 > /tmp/lxmert-torch.$round.json
done
node -e '
const fs = require("fs");
let w = [], t = [];
for (const r of [1, 2]) {
  w.push(JSON.parse(fs.readFileSync(`/tmp/lxmert-wasm.${r}.json`)).median_ms);
  t.push(JSON.parse(fs.readFileSync(`/tmp/lxmert-torch.${r}.json`)).median_ms);
}
const torchBackend = JSON.parse(fs.readFileSync("/tmp/lxmert-torch.1.json")).backend;
for (let i = 0; i < 2; i++) console.log(`round ${i + 1}: wasm ${w[i].toFixed(1)} ms, ${torchBackend} ${t[i].toFixed(1)} ms, ratio ${(w[i] / t[i]).toFixed(2)}`);
const mw = Math.min(...w), mt = Math.min(...t);
console.log(`best medians: wasm ${mw.toFixed(1)} ms / torch ${mt.toFixed(1)} ms = ${(mw / mt).toFixed(2)}x (target <= 2.5x)`);
'
