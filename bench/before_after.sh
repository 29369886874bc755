#!/usr/bin/env bash
# Forward times of two builds of this repository, interleaved (A B A B) so that both see the
# same machine load: the wasm VQA path at lxmert-base shapes and the SwiftShader (WebGPU) VQA
# path at bench/config-tiny-955.json. Separate processes: compare medians, not ratios.
#   bash bench/before_after.sh BASE_DIR   (BASE_DIR: another checkout with `npm run build` done)
set -euo pipefail
NEW=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:?usage: bench/before_after.sh BASE_DIR}
run() { (cd "$2" && node bin/lxmert.js bench "${@:3}" --json | tail -1 | sed "s/^/$1 /"); }
for round in 1 2; do
  run "wasm base r$round" "$BASE" --random vqa --backend wasm --runs 10
  run "wasm new r$round" "$NEW" --random vqa --backend wasm --runs 10
done
for round in 1 2; do
  run "swiftshader base r$round" "$BASE" --random "$NEW/bench/config-tiny-955.json" --backend webgpu --runs 5
  run "swiftshader new r$round" "$NEW" --random "$NEW/bench/config-tiny-955.json" --backend webgpu --runs 5
done
