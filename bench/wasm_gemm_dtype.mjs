/* global console, performance */
// One product per weight dtype on the WASM GEMM (float32, float16 bits, int8 + row scales), the same
// int8-representable weights, lxmert-base shapes, medians of 30 after 3 warm-ups, interleaved:
// `npm run build && node bench/wasm_gemm_dtype.mjs`. Prints one JSON line.
import { gemmEngine } from '../dist/kernels/wasm/gemm.js';
import { quantizeInt8, dequantizeInt8 } from '../dist/src/codec/int8.js';
import { f32ToF16Bits } from '../dist/src/codec/float16.js';
const e = gemmEngine();
const rnd = (n, s) => {
  let x = (s * 2654435761) >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    a[i] = x / 4294967296 - 0.5;
  }
  return a;
};
const out = {};
for (const [m, k, n] of [
  [20, 768, 3072],
  [36, 768, 3072],
  [20, 3072, 768],
  [36, 768, 768],
]) {
  const q = quantizeInt8(rnd(n * k, 1), n, k);
  const w = dequantizeInt8(q, k);
  const b = rnd(n, 2);
  const x = rnd(m * k, 3);
  const p = {
    f32: e.pack(w, b, n, k),
    f16: e.pack(Uint16Array.from(w, f32ToF16Bits), b, n, k),
    i8: e.packInt8(q, b, n, k),
  };
  const ms = { f32: [], f16: [], i8: [] };
  for (let r = 0; r < 33; r++)
    for (const d of ['f32', 'f16', 'i8']) {
      const t = performance.now();
      e.run(x, m, p[d], 'linear', { view: true });
      ms[d].push(performance.now() - t);
    }
  const med = (a) => a.slice(3).sort((u, v) => u - v)[15];
  out[`${m}x${k}x${n}`] = Object.fromEntries(
    Object.entries(ms).map(([d, a]) => [d, +med(a).toFixed(3)]),
  );
  for (const d in p) e.unpack(p[d]);
}
console.log(JSON.stringify({ isa: e.isa, medianMs: out }));
