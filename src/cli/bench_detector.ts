/**
 * `lxmert bench --detector DIR | --random-detector full|CONFIG.yaml [--image IMG]`: time the
 * detector (image → 36 regions) per image after warm-up. Without --image, a seeded synthetic
 * 640×480 picture, which the real config resizes to 800×1067 (the PyTorch peer's size).
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import {
  DETECT_SUBMIT_BATCH,
  formatStepReport,
  frcnnFullConfig,
  GeneralizedRCNN,
  meterSteps,
  parseFrcnnConfig,
  randomFrcnnWeights,
  type FrcnnConfig,
  type StepReport,
} from '../detector/index.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { UsageError } from '../errors.js';
import type { RgbaImage } from '../features/image.js';
import { readImageFile } from '../features/image_node.js';
import { loadDetector } from '../weights/detector_node.js';
import { gpuMemory } from '../../kernels/runtime/dispatch_counter.js';
import { backendReport } from './runtime.js';

export interface DetectorBenchOptions {
  detector?: string;
  random?: string;
  image?: string;
  runs: number;
  warmup: number;
  seed: number;
  /** webgpu: submit every N dispatches while detecting (detect()'s submitBatch). */
  submitBatch?: number;
  json: boolean;
  backend: string;
}

export interface DetectorBenchResult {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  backend: string;
  image_hw: [number, number];
  num_detections: number;
  /** Peak bytes of live tf.js tensors during one detect (weights included; meterSteps). */
  peak_tensor_bytes: number;
  new_tensors_per_image: number;
  /** Process peak resident set size, MiB (getrusage). */
  peak_rss_mib: number;
  parameter_count: number;
  /** webgpu: dispatches per submit while detecting. */
  submit_batch?: number;
  dispatches?: number;
  gpu_bytes?: number;
  gpu_bytes_allocated?: number;
  /** Device → host reads (dataSync / data) during one detect. */
  read_backs?: number;
  /**
   * Per step of one detect (preprocess, backbone, rpn, roiPool, res5, heads, nms): dispatches,
   * read-backs and their bytes, peak GPU bytes (webgpu), peak tensor bytes (every backend).
   */
  steps: StepReport;
}

/** A seeded 640×480 synthetic picture (gradients and rectangles). */
export function syntheticImage(width = 640, height = 480, seed = 0): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let s = (seed + 0x9e3779b9) >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rects = Array.from({ length: 12 }, () => {
    const x = rand() * width;
    const y = rand() * height;
    return [
      x,
      y,
      x + rand() * width * 0.4,
      y + rand() * height * 0.4,
      rand() * 255,
      rand() * 255,
      rand() * 255,
    ];
  });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let [r, g, b] = [(x * 255) / width, (y * 255) / height, ((x + y) * 127) / (width + height)];
      for (const [x1, y1, x2, y2, cr, cg, cb] of rects) {
        if (x >= x1 && x < x2 && y >= y1 && y < y2) [r, g, b] = [cr, cg, cb];
      }
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

async function randomConfig(spec: string): Promise<FrcnnConfig> {
  if (spec === 'full') return frcnnFullConfig();
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (e) {
    throw new UsageError(
      `--random-detector: expected 'full' or a config.yaml path, got '${spec}' (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  return parseFrcnnConfig(text, spec);
}

export async function benchDetector(o: DetectorBenchOptions): Promise<void> {
  const t0 = performance.now();
  let config: FrcnnConfig;
  let weights: ReadonlyMap<string, RawTensor>;
  if (o.detector) {
    const det = await loadDetector(o.detector);
    config = det.config;
    weights = det.weights;
  } else {
    config = await randomConfig(o.random!);
    weights = randomFrcnnWeights(config, o.seed);
  }
  const image = o.image ? await readImageFile(o.image) : syntheticImage(640, 480, o.seed);
  let parameters = 0;
  for (const t of weights.values())
    parameters += t.shape.reduce((a: number, b: number) => a * b, 1);
  const model = GeneralizedRCNN.build(config, weights);
  const loadMs = performance.now() - t0;
  const times: number[] = [];
  let numDetections = 0;
  let peakBytes: number;
  let newTensors: number;
  let dispatches: number;
  let readBacks: number;
  let report: StepReport;
  let gpu: ReturnType<typeof gpuMemory>;
  try {
    for (let i = 0; i < o.warmup + o.runs; i++) {
      const s = performance.now();
      const d = await model.detect(image, { submitBatch: o.submitBatch });
      if (i >= o.warmup) times.push(performance.now() - s);
      numDetections = d.numDetections;
    }
    // One more detect, metered per step: no onStage (its timing read-back would count) and no
    // tf.profile (it times every kernel, and on webgpu a timed kernel is never submitted, so no
    // buffer is released until the next read-back: GPU bytes would be those of no submits).
    const tensorsBefore = tf.memory().numTensors;
    const meter = meterSteps();
    try {
      await model.detect(image, { onStep: meter.onStep, submitBatch: o.submitBatch });
    } finally {
      report = await meter.stop();
    }
    newTensors = tf.memory().numTensors - tensorsBefore;
    peakBytes = Math.max(...Object.values(report).map((c) => c.peakTensorBytes));
    dispatches = Object.values(report).reduce((n, c) => n + c.dispatches, 0);
    readBacks = Object.values(report).reduce((n, c) => n + c.readBacks, 0);
    gpu = gpuMemory();
  } finally {
    model.dispose();
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const result: DetectorBenchResult = {
    median_ms: median,
    min_ms: times[0],
    max_ms: times[times.length - 1],
    backend: tf.getBackend(),
    image_hw: [image.height, image.width],
    num_detections: numDetections,
    peak_tensor_bytes: peakBytes,
    new_tensors_per_image: newTensors,
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    parameter_count: parameters,
    steps: report,
  };
  if (result.backend === 'webgpu') {
    result.dispatches = dispatches;
    result.gpu_bytes = gpu?.bytesInUse ?? 0;
    result.gpu_bytes_allocated = gpu?.bytesAllocated ?? 0;
    result.read_backs = readBacks;
    result.submit_batch = o.submitBatch ?? DETECT_SUBMIT_BATCH;
  }
  const lines = [
    `backend: ${backendReport()}`,
    `detector: ${o.detector ?? `random ${o.random} (seed ${o.seed})`}, ${(parameters / 1e6).toFixed(1)} M parameters; image ${image.width}x${image.height} (W x H), resized to min ${config.minSizeTest} / max ${config.maxSizeTest}`,
    `load: ${loadMs.toFixed(0)} ms; runs: ${o.runs} after ${o.warmup} warm-up; ${numDetections} detections`,
    `memory: peak ${(peakBytes / 2 ** 20).toFixed(1)} MiB of tensors in one detect, ${newTensors} tensors left after it; peak RSS ${result.peak_rss_mib.toFixed(0)} MiB`,
    ...(result.backend === 'webgpu'
      ? [
          `GPU: ${dispatches} dispatches and ${readBacks} read-backs per image (a submit every ${result.submit_batch}); ${((gpu?.bytesInUse ?? 0) / 2 ** 20).toFixed(1)} MiB in GPU buffers, ${((gpu?.bytesAllocated ?? 0) / 2 ** 20).toFixed(1)} MiB allocated`,
        ]
      : []),
    `per step (one detect):`,
    ...formatStepReport(report, result.backend === 'webgpu'),
    `detect: median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms per image`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
}
