#!/usr/bin/env bash
# One-command set-up on a fresh Debian machine with Node 20 (run as root, or with sudo available):
# Debian's chromium (headless browser tests; it also ships SwiftShader, the CPU Vulkan that
# WebGPU tests run on) and the npm dependencies (npm ci's `prepare` also embeds kernels/*.wgsl
# in kernels/wgsl_sources.ts and compiles the TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if ! command -v chromium >/dev/null 2>&1 || [ ! -e /usr/lib/chromium/vk_swiftshader_icd.json ] \
  || ! ldconfig -p | grep -q libvulkan.so.1; then
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium libvulkan1
fi
npm ci --no-audit --no-fund
