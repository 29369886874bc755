/**
 * `lxmert bench (--model DIR | --random CONFIG) --backend B [--batch 1] [--tokens 20] [--boxes 36]
 *  [--runs N] [--warmup N] [--json]`: time the VQA path (encoders + pooler + answer head).
 */
import * as tf from '@tensorflow/tfjs-core';
import { configFromHf, DEFAULT_CONFIG, type LxmertConfig } from '../config.js';
import { ConfigError, LxmertError, UsageError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';
import {
  buildModel,
  defaultLinearFormat,
  LxmertForPreTraining,
  LxmertForQuestionAnswering,
  randomWeightSource,
  type AnyLxmertModel,
  type LxmertInputs,
} from '../model/index.js';
import { loadCheckpoint } from '../weights/checkpoint.js';
import { nonNegativeInt, parseOptions, positiveInt } from './args.js';
import { backendOption } from './backend_option.js';
import { FROM_HELP, fromOption } from './from_option.js';
import { setFusedKernels } from '../../kernels/ops.js';
import { gpuMemory, trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { activateBackend, backendReport, storedFormat } from './runtime.js';
import { DETECT_SUBMIT_BATCH } from '../detector/index.js';
import { benchDetector } from './bench_detector.js';

const HELP = `usage: lxmert bench (--model DIR | --random CONFIG) [--backend auto|cpu|wasm|webgpu]
                    [--batch 1] [--tokens 20] [--boxes 36] [--runs 20] [--warmup 3] [--seed 0]
                    [--dtype f32|f16|int8] [--no-fused] [--json] [--from pt|tf]
       lxmert bench (--detector DIR | --random-detector full|CONFIG.yaml) [--image IMG]
                    [--backend B] [--runs 3] [--warmup 1] [--seed 0] [--submit-batch 1] [--json]

Times the VQA path (encoders + pooler + answer head) after warm-up and prints median/min/max
milliseconds. --random CONFIG builds seeded random weights from a config.json path, or from a
preset: 'base' (lxmert-base-uncased shapes, 9500 answers), 'vqa' (3129), 'gqa' (1842). With
--json the last line is {"median_ms":…,"min_ms":…,"max_ms":…,"backend":…, …}. On webgpu it also
reports dispatches per forward and GPU bytes; --dtype picks how Linear weights are stored on the
GPU (default: the converted model's dtype, else f32); --no-fused runs the same model on stock
tf.js ops. Default backend: wasm. --model DIR is a Hugging Face folder (PyTorch or TF weights)
or a 'lxmert convert' output.

With --detector or --random-detector it times the detector instead (image → 36 regions) per
image: without --image on a synthetic 640x480 picture, which the real config resizes to
800x1067; reports peak tensor memory and RSS, and on webgpu dispatches, GPU bytes and
read-backs per image, and all of them per step (preprocess, backbone, rpn, roiPool, res5, heads,
nms). --submit-batch N: webgpu submits every N dispatches while detecting (default 1; tf.js's
own default is 15, which holds more GPU memory).

${FROM_HELP}`;

const PRESETS = { base: 9500, vqa: 3129, gqa: 1842 } as const;

/** lxmert-base shapes with the preset's answer head (`--random base|vqa|gqa`; benchmarks). */
export function presetConfig(preset: keyof typeof PRESETS): LxmertConfig {
  if (!Object.hasOwn(PRESETS, preset)) {
    throw new UsageError(
      `preset: expected one of ${Object.keys(PRESETS).join(', ')}, got '${preset}'`,
    );
  }
  return {
    ...DEFAULT_CONFIG,
    numQaLabels: PRESETS[preset],
    architectures: ['LxmertForQuestionAnswering'],
    id2label: null,
  };
}

async function randomConfig(spec: string): Promise<LxmertConfig> {
  if (Object.hasOwn(PRESETS, spec)) return presetConfig(spec as keyof typeof PRESETS);
  let text: string;
  try {
    text = await readTextFile(spec, {
      maxBytes: limits().maxConfigBytes,
      limitName: 'maxConfigBytes',
    });
  } catch (e) {
    throw new UsageError(
      `--random: expected a config.json path or one of ${Object.keys(PRESETS).join(', ')}, got '${spec}' (${(e as Error).message})`,
    );
  }
  try {
    return configFromHf(
      parseJsonGuarded(text, (msg) => {
        throw new ConfigError('(file)', `valid JSON in ${spec}`, msg);
      }),
    );
  } catch (e) {
    if (e instanceof LxmertError) throw e;
    throw new ConfigError('(file)', `valid JSON in ${spec}`, (e as Error).message);
  }
}

/** Seeded random inputs of the given size: [CLS] ids [SEP], features ≥ 0, valid boxes. */
export function randomInputs(
  cfg: LxmertConfig,
  batch: number,
  tokens: number,
  boxes: number,
  seed: number,
): LxmertInputs {
  return tf.tidy(() => {
    const ids = tf.randomUniform(
      [batch, tokens],
      1000 % cfg.vocabSize,
      cfg.vocabSize,
      'int32',
      seed,
    );
    const xy = tf.randomUniform([batch, boxes, 2], 0, 0.5, 'float32', seed + 1);
    const wh = tf.randomUniform([batch, boxes, 2], 0.05, 0.5, 'float32', seed + 2);
    const pos =
      cfg.visualPosDim === 4
        ? tf.concat([xy, tf.add(xy, wh)], 2)
        : tf.randomUniform([batch, boxes, cfg.visualPosDim], 0, 1, 'float32', seed + 3);
    return {
      inputIds: ids as tf.Tensor2D,
      attentionMask: tf.ones([batch, tokens], 'int32') as tf.Tensor2D,
      visualFeats: tf.relu(
        tf.randomNormal([batch, boxes, cfg.visualFeatDim], 0, 1, 'float32', seed + 4),
      ) as tf.Tensor3D,
      visualPos: pos as tf.Tensor3D,
    };
  });
}

function answerScores(model: AnyLxmertModel, x: LxmertInputs): tf.Tensor {
  if (model instanceof LxmertForQuestionAnswering || model instanceof LxmertForPreTraining) {
    return model.answerScores(x, { validate: false });
  }
  throw new UsageError(
    'the model has no answer head (an LxmertModel checkpoint): bench needs LxmertForQuestionAnswering or LxmertForPreTraining',
  );
}

export interface BenchResult {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  backend: string;
  fused: boolean;
  parameter_bytes: number;
  dispatches?: number;
  gpu_bytes?: number;
}

async function benchDetectorCommand(values: Record<string, string | boolean | undefined>) {
  if (values.detector !== undefined && values['random-detector'] !== undefined) {
    throw new UsageError('give one of --detector DIR and --random-detector full, not both');
  }
  for (const o of ['model', 'random', 'batch', 'tokens', 'boxes', 'dtype', 'no-fused']) {
    if (values[o] !== undefined) throw new UsageError(`--${o} does not apply to a detector bench`);
  }
  const backend = backendOption(values.backend, 'wasm');
  const opts = {
    detector: values.detector as string | undefined,
    random: values['random-detector'] as string | undefined,
    image: values.image as string | undefined,
    runs: positiveInt(values, 'runs', 3),
    warmup: nonNegativeInt(values, 'warmup', 1),
    seed: nonNegativeInt(values, 'seed', 0),
    submitBatch: positiveInt(values, 'submit-batch', DETECT_SUBMIT_BATCH),
    json: Boolean(values.json),
    backend,
  };
  await activateBackend(backend);
  await benchDetector(opts);
}

export async function bench(argv: string[]): Promise<void> {
  const { values } = parseOptions('bench', argv, {
    model: { type: 'string' },
    random: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
    tokens: { type: 'string' },
    boxes: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    dtype: { type: 'string' },
    'no-fused': { type: 'boolean' },
    from: { type: 'string' },
    detector: { type: 'string' },
    'random-detector': { type: 'string' },
    image: { type: 'string' },
    'submit-batch': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (values.detector !== undefined || values['random-detector'] !== undefined) {
    await benchDetectorCommand(values);
    return;
  }
  if (values.image !== undefined) {
    throw new UsageError('--image needs --detector DIR or --random-detector full');
  }
  if (values['submit-batch'] !== undefined) {
    throw new UsageError('--submit-batch needs --detector DIR or --random-detector full');
  }
  if (!values.model === !values.random)
    throw new UsageError(
      "give exactly one of --model DIR and --random CONFIG (see 'lxmert bench --help')",
    );
  const backend = backendOption(values.backend, 'wasm');
  const batch = positiveInt(values, 'batch', 1);
  const tokens = positiveInt(values, 'tokens', 20);
  const boxes = positiveInt(values, 'boxes', 36);
  const runs = positiveInt(values, 'runs', 20);
  const warmup = nonNegativeInt(values, 'warmup', 3);
  const seed = nonNegativeInt(values, 'seed', 0);

  const dtype = values.dtype as string | undefined;
  if (dtype !== undefined && !['f32', 'f16', 'int8'].includes(dtype)) {
    throw new UsageError(`--dtype: expected one of f32, f16, int8, got '${dtype}'`);
  }
  const from = fromOption(values.from);
  const selection = await activateBackend(backend);
  const fused = !values['no-fused'];
  setFusedKernels(fused);
  const format = dtype as 'f32' | 'f16' | 'int8' | undefined;
  const t0 = performance.now();
  // The config first, so that bad sizes fail before any weight is on the device.
  const ckpt = values.model ? await loadCheckpoint(values.model as string, { from }) : null;
  const cfg: LxmertConfig = ckpt ? ckpt.config : await randomConfig(values.random as string);
  if (tokens > cfg.maxPositionEmbeddings) {
    throw new UsageError(
      `--tokens: at most max_position_embeddings = ${cfg.maxPositionEmbeddings}, got ${tokens}`,
    );
  }
  const model: AnyLxmertModel = ckpt
    ? buildModel(cfg, ckpt.weights, {
        architecture: ckpt.architecture,
        source: ckpt.source,
        weightFormat: format ?? storedFormat(ckpt),
      })
    : buildModel(cfg, randomWeightSource(seed, 0.02, defaultLinearFormat(format ?? 'f32')));
  const loadMs = performance.now() - t0;
  const inputs = randomInputs(cfg, batch, tokens, boxes, seed);
  const times: number[] = [];
  let dispatches: number;
  let gpu: { bytesInUse: number } | null;
  const paramBytes = model.parameterBytes();
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const s = performance.now();
      const scores = answerScores(model, inputs);
      await scores.data(); // wait for the device
      scores.dispose();
      if (i >= warmup) times.push(performance.now() - s);
    }
    const counter = trackDispatches();
    const scores = answerScores(model, inputs);
    dispatches = counter.stop().total;
    gpu = gpuMemory(); // after the runs: tf.js uploads weights on first use
    await scores.data();
    scores.dispose();
  } finally {
    tf.dispose(Object.values(inputs));
    model.dispose();
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const result: BenchResult = {
    median_ms: median,
    min_ms: times[0],
    max_ms: times[times.length - 1],
    backend: selection.backend,
    fused,
    parameter_bytes: paramBytes,
  };
  if (selection.backend === 'webgpu') {
    result.dispatches = dispatches;
    result.gpu_bytes = gpu?.bytesInUse ?? 0;
  }
  const shape = `batch ${batch}, ${tokens} tokens, ${boxes} boxes; hidden ${cfg.hiddenSize}, layers l/r/x ${cfg.lLayers}/${cfg.rLayers}/${cfg.xLayers}, features ${cfg.visualFeatDim}`;
  const lines = [
    `backend: ${backendReport()}`,
    `shapes: ${shape}`,
    `load: ${loadMs.toFixed(0)} ms; runs: ${runs} after ${warmup} warm-up`,
    ...(selection.backend === 'webgpu'
      ? [
          `GPU: ${dispatches} dispatches per forward; ${((gpu?.bytesInUse ?? 0) / 2 ** 20).toFixed(1)} MiB in GPU buffers after the runs`,
        ]
      : []),
    `parameters: ${(paramBytes / 2 ** 20).toFixed(1)} MiB as stored on the ${selection.backend} device`,
    `fused kernels: ${fused ? 'on' : 'off (stock tf.js ops)'}`,
    `VQA forward: median ${median.toFixed(2)} ms, min ${times[0].toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
}
