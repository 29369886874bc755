/** The per-shape GEMM page (driven by bench/gemm_shapes/run.mjs): window.gemmShapes(options). */
import * as ort from 'onnxruntime-web/wasm';
import { gemmVariants, runShapes, type OrtLike } from '../shapes.js';

declare global {
  interface Window {
    gemmShapes: (options: { rounds: number }) => ReturnType<typeof runShapes>;
  }
}

ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.proxy = false;
window.gemmShapes = (options) => runShapes(ort as unknown as OrtLike, gemmVariants(), options);
