/**
 * The Hugging Face state_dict names and shapes GeneralizedRCNN reads, derived from a config, a
 * seeded random checkpoint with those shapes (tests, benchmarks), and the check of a weight map
 * against the inventory.
 */
import { WeightsError, formatShape } from '../errors.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { frcnnWidths, type FrcnnConfig } from './config.js';

/** The BatchNorm statistics of every `…norm` (HF's FrozenBatchNorm2d / eval BatchNorm2d). */
const NORM_FIELDS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** Present in HF checkpoints, not read: BatchNorm's step counter. */
export const IGNORED_SUFFIX = '.num_batches_tracked';
/** Present in HF checkpoints (an nn.Parameter), recomputed from the config and checked. */
export const CELL_ANCHORS = 'proposal_generator.anchor_generator.cell_anchors.0';

function conv(out: Map<string, number[]>, p: string, cin: number, cout: number, k: number): void {
  out.set(`${p}.weight`, [cout, cin, k, k]);
  for (const f of NORM_FIELDS) out.set(`${p}.norm.${f}`, [cout]);
}

/** Prefixes of the bottleneck blocks of one stage, with their in/bottleneck/out widths. */
export interface BlockSpec {
  prefix: string;
  cin: number;
  mid: number;
  cout: number;
  /** Block 0 of a stage: a 1×1 projection shortcut. */
  shortcut: boolean;
}

/** Every bottleneck of res2..res4 (backbone.resN.i) and res5 (roi_heads.res5.i). */
export function bottleneckSpecs(config: FrcnnConfig): BlockSpec[] {
  const w = frcnnWidths(config);
  const specs: BlockSpec[] = [];
  let cin = w.stem;
  for (let s = 0; s < 4; s++) {
    const stage = s < 3 ? `backbone.res${s + 2}` : 'roi_heads.res5';
    for (let i = 0; i < w.blocks[s]; i++) {
      specs.push({
        prefix: `${stage}.${i}`,
        cin: i === 0 ? cin : w.out[s],
        mid: w.bottleneck[s],
        cout: w.out[s],
        shortcut: i === 0,
      });
    }
    cin = w.out[s];
  }
  return specs;
}

/** HF state_dict names → shapes the model reads (num_batches_tracked and cell_anchors aside). */
export function frcnnInventory(config: FrcnnConfig): Map<string, number[]> {
  const w = frcnnWidths(config);
  const out = new Map<string, number[]>();
  conv(out, 'backbone.stem.conv1', 3, w.stem, 7);
  for (const b of bottleneckSpecs(config)) {
    if (b.shortcut) conv(out, `${b.prefix}.shortcut`, b.cin, b.cout, 1);
    conv(out, `${b.prefix}.conv1`, b.cin, b.mid, 1);
    conv(out, `${b.prefix}.conv2`, b.mid, b.mid, 3);
    conv(out, `${b.prefix}.conv3`, b.mid, b.cout, 1);
  }
  const h = config.proposalGenerator.hiddenChannels;
  const a = w.anchorsPerCell;
  const rpn = 'proposal_generator.rpn_head';
  out.set(`${rpn}.conv.weight`, [h, w.c4, 3, 3]);
  out.set(`${rpn}.conv.bias`, [h]);
  out.set(`${rpn}.objectness_logits.weight`, [a, h, 1, 1]);
  out.set(`${rpn}.objectness_logits.bias`, [a]);
  out.set(`${rpn}.anchor_deltas.weight`, [a * 4, h, 1, 1]);
  out.set(`${rpn}.anchor_deltas.bias`, [a * 4]);
  const n = config.roiHeads.numClasses;
  const bp = 'roi_heads.box_predictor';
  out.set(`${bp}.cls_score.weight`, [n + 1, w.c5]);
  out.set(`${bp}.cls_score.bias`, [n + 1]);
  out.set(`${bp}.bbox_pred.weight`, [n * 4, w.c5]);
  out.set(`${bp}.bbox_pred.bias`, [n * 4]);
  if (config.roiBoxHead.attr) {
    const na = config.roiBoxHead.numAttrs;
    out.set(`${bp}.cls_embedding.weight`, [n + 1, w.clsEmbedding]);
    out.set(`${bp}.fc_attr.weight`, [w.attrHidden, w.c5 + w.clsEmbedding]);
    out.set(`${bp}.fc_attr.bias`, [w.attrHidden]);
    out.set(`${bp}.attr_score.weight`, [na + 1, w.attrHidden]);
    out.set(`${bp}.attr_score.bias`, [na + 1]);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Check a weight map against the inventory; one WeightsError lists every missing, extra and
 * mis-shaped (or non-float) name. `num_batches_tracked` and the cell anchors are allowed extras.
 */
export function checkFrcnnWeights(
  config: FrcnnConfig,
  weights: ReadonlyMap<string, RawTensor>,
  source = 'detector weights',
): void {
  const inventory = frcnnInventory(config);
  const missing: string[] = [];
  const wrong: string[] = [];
  const extra: string[] = [];
  for (const [name, shape] of inventory) {
    const t = weights.get(name);
    if (!t) missing.push(name);
    else if (!sameShape(t.shape, shape) || !FLOAT_DTYPES.has(t.dtype)) {
      wrong.push(`${name} (${t.dtype} ${formatShape(t.shape)}, expected ${formatShape(shape)})`);
    }
  }
  const a = frcnnWidths(config).anchorsPerCell;
  for (const [name, t] of weights) {
    if (inventory.has(name) || name.endsWith(IGNORED_SUFFIX)) continue;
    if (name === CELL_ANCHORS) {
      if (!sameShape(t.shape, [a, 4])) {
        wrong.push(`${name} (${formatShape(t.shape)}, expected ${formatShape([a, 4])})`);
      }
      continue;
    }
    extra.push(name);
  }
  if (missing.length + wrong.length + extra.length === 0) return;
  const list = (label: string, names: string[]) =>
    names.length === 0
      ? []
      : [
          `${names.length} ${label}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`,
        ];
  throw new WeightsError(
    [
      'not a checkpoint of this detector config',
      ...list('missing', missing),
      ...list('mis-shaped', wrong),
      ...list('unexpected', extra),
    ].join('; '),
    source,
  );
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f32Tensor(shape: number[], fill: (i: number) => number): RawTensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = fill(i);
  return { dtype: 'F32', shape, bytes: new Uint8Array(v.buffer) };
}

/**
 * A seeded random checkpoint with the inventory's names and shapes: He-scaled convolutions,
 * non-trivial BatchNorm statistics and small residual-branch gains, so activations stay O(1)
 * through 100+ layers and the softmaxes are not saturated. For tests and benchmarks (any size,
 * the real one included); it detects nothing meaningful.
 */
export function randomFrcnnWeights(config: FrcnnConfig, seed = 0): Map<string, RawTensor> {
  const rand = generator(seed + 1);
  const uniform = (scale: number) => () => (rand() * 2 - 1) * scale;
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of frcnnInventory(config)) {
    let fill: (i: number) => number;
    const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
    const he = Math.sqrt(6 / fanIn); // uniform with variance 2 / fanIn
    if (name.endsWith('.norm.running_mean')) fill = uniform(0.1);
    else if (name.endsWith('.norm.running_var')) fill = () => 0.5 + rand();
    else if (name.endsWith('.norm.bias')) fill = uniform(0.1);
    else if (name.endsWith('.norm.weight')) {
      // The residual branch's last BN starts small (as zero-init-residual recipes do).
      const gain = /\.conv3\.norm/.test(name) ? 0.1 : 1;
      fill = () => gain * (0.8 + 0.4 * rand());
    } else if (name.endsWith('.bias')) fill = uniform(0.1);
    else if (name.includes('cls_embedding')) fill = uniform(1);
    else if (shape.length === 2) fill = uniform(Math.sqrt(3 / shape[1]));
    else if (name === 'backbone.stem.conv1.weight') {
      // The input is pixel values minus the mean (±100): scale the stem down to O(1) outputs.
      fill = uniform(he / 64);
    } else fill = uniform(he);
    out.set(name, f32Tensor(shape, fill));
  }
  return out;
}
