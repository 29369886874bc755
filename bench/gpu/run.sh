#!/usr/bin/env bash
# Runs the WebGPU benchmark (fused vs --no-fused, dispatches, GPU bytes) with the carried Node
# and Dawn, then Hugging Face's LXMERT in PyTorch eager on the same GPU, and prints a summary.
#   bash bench/gpu/run.sh [OUTDIR]        (after bench/gpu/prepare.sh; OUTDIR default /tmp/...)
# BENCH_ARGS passes options to the benchmark (e.g. "--preset tiny --runs 3" on SwiftShader);
# HF_ARGS to hf_lxmert.py. Without a GPU, Dawn falls back to SwiftShader where Chromium is
# installed, and the PyTorch half runs on the CPU if transformers is importable.
set -uo pipefail
cd "$(dirname "$0")/../.."
C=.bench/gpu
W=/tmp/lxmert-webgpu-bench
OUTDIR="${1:-$W/out}"
mkdir -p "$W/node_modules/webgpu/dist/linux-x64" "$OUTDIR"
xz -dc "$C/node.xz" > "$W/node" && chmod +x "$W/node"
xz -dc "$C/bench.mjs.xz" > "$W/bench.mjs"
xz -dc "$C/detector.mjs.xz" > "$W/detector.mjs"
cp "$C/node_modules/webgpu/index.js" "$C/node_modules/webgpu/package.json" "$W/node_modules/webgpu/"
xz -dc "$C/dawn.node.xz" > "$W/node_modules/webgpu/dist/linux-x64/dawn.node"
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$C"/libvulkan1_*.deb; do dpkg -x "$f" "$W/vk"; done
  export LD_LIBRARY_PATH="$W/vk/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$j" ]; then export VK_DRIVER_FILES="$j"; break; fi
  done
fi
{
  date -u +%Y-%m-%dT%H:%M:%SZ
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
} > "$OUTDIR/machine.txt"
# Batch 1 and 8 (BATCHES overrides), each: the WebGPU bench, then HF's PyTorch eager on the GPU.
for b in ${BATCHES:-1 8}; do
  # shellcheck disable=SC2086
  timeout "${BENCH_TIMEOUT:-200}" "$W/node" "$W/bench.mjs" --json --batch "$b" ${BENCH_ARGS:-} \
    > "$OUTDIR/webgpu.b$b.json" 2> "$OUTDIR/webgpu.b$b.err"
  echo "webgpu bench, batch $b: exit $?"
  # shellcheck disable=SC2086
  timeout "${HF_TIMEOUT:-100}" python3 bench/gpu/hf_lxmert.py --batch "$b" ${HF_ARGS:-} \
    > "$OUTDIR/hf.b$b.json" 2> "$OUTDIR/hf.b$b.err"
  echo "hf bench, batch $b: exit $?"
done
# The detector case (issue 9): full-size random weights written here, calibrated by the PyTorch
# port when torch is installed (BatchNorm statistics from the image; see bench/frcnn_torch.py),
# then `lxmert bench --detector` on WebGPU and the PyTorch port on the GPU (else CPU).
D=/tmp/lxmert-frcnn-full
if [ "${SKIP_DETECTOR:-0}" != 1 ]; then
  "$W/node" "$W/detector.mjs" --write "$D" > "$OUTDIR/detector.err" 2>&1
  python3 bench/frcnn_torch.py --detector "$D" --image "$D/image.png" --calibrate >> "$OUTDIR/detector.err" 2>&1 ||
    echo "detector: not calibrated (no PyTorch?): random weights as written" >> "$OUTDIR/detector.err"
  timeout "${DETECTOR_TIMEOUT:-300}" "$W/node" "$W/detector.mjs" --detector "$D" --json ${DETECTOR_ARGS:-} \
    > "$OUTDIR/detector.json" 2>> "$OUTDIR/detector.err"
  echo "detector webgpu bench: exit $?"
  # tf.js's own submit batch (15) for comparison: time and GPU memory (detect() submits every
  # dispatch by default to keep GPU memory down; see BENCHMARKS.md "Peak GPU memory").
  # shellcheck disable=SC2086
  timeout "${DETECTOR_TIMEOUT:-300}" "$W/node" "$W/detector.mjs" --detector "$D" --json --submit-batch 15 ${DETECTOR_ARGS:-} \
    > "$OUTDIR/detector.b15.json" 2>> "$OUTDIR/detector.err"
  echo "detector webgpu bench, --submit-batch 15: exit $?"
  timeout "${DETECTOR_TIMEOUT:-300}" python3 bench/frcnn_torch.py --detector "$D" --image "$D/image.png" --device auto --json \
    > "$OUTDIR/detector_torch.json" 2>> "$OUTDIR/detector.err"
  echo "detector torch bench: exit $?"
fi
python3 bench/gpu/summary.py "$OUTDIR"
