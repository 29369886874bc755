#!/usr/bin/env bash
# Fills .bench/gpu (git-ignored, carried to the GPU machine with `carry: [".bench/gpu"]`) with
# what bench/gpu/run.sh needs there, where there is no Node.js and no network (../shared/GPU.md):
# the Node binary, the single-file benchmark bundle and Dawn's dawn.node (all xz'd), the
# `webgpu` package's loader, and Debian's libvulkan1 .deb (the Vulkan loader).
set -euo pipefail
cd "$(dirname "$0")/../.."
C=.bench/gpu
rm -rf "$C/node_modules" "$C/bench.mjs" "$C/detector.mjs"
mkdir -p "$C/node_modules/webgpu"
node bench/gpu/build.mjs "$C/build"
xz -9 -c "$C/build/bench.mjs" > "$C/bench.mjs.xz"
xz -9 -c "$C/build/detector.mjs" > "$C/detector.mjs.xz"
rm -rf "$C/build"
NODE_BIN="$(readlink -f "$(command -v node)")"
if [ ! -f "$C/node.xz" ] || [ "$NODE_BIN" -nt "$C/node.xz" ]; then
  xz -9 -T0 -c "$NODE_BIN" > "$C/node.xz"
fi
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$C/node_modules/webgpu/"
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
if [ ! -f "$C/dawn.node.xz" ] || [ "$DAWN" -nt "$C/dawn.node.xz" ]; then
  xz -9 -T0 -c "$DAWN" > "$C/dawn.node.xz"
fi
if ! ls "$C"/libvulkan1_*.deb > /dev/null 2>&1; then
  (cd "$C" && apt-get download libvulkan1) ||
    echo "prepare: apt-get download libvulkan1 failed; run.sh then needs libvulkan.so.1 on the machine"
fi
du -sh "$C"
echo "prepare: done; on the GPU machine: bash bench/gpu/run.sh \$OUT (carry .bench/gpu)"
