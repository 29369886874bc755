/**
 * The detector (`GeneralizedRCNN`, Hugging Face's `modeling_frcnn.py`) as a weights
 * architecture: which of a checkpoint's tensors it takes, checked against the detector's
 * inventory (frcnnInventory) with one error listing every missing, mis-shaped, non-float and
 * unexpected name, and how each is stored when converted. Browser-safe.
 */
import { frcnnInventory, type FrcnnConfig } from '../detector/index.js';
import { WeightsError, formatShape } from '../errors.js';
import type { OutputDtype, Quantization } from './manifest.js';
import type { StDtype } from '../codec/raw_tensor.js';

/** The manifest's `architecture` of a converted detector. */
export const DETECTOR_ARCHITECTURE = 'GeneralizedRCNN';
/** The detector's config file in a Hugging Face folder (HF's `utils.Config` YAML). */
export const DETECTOR_CONFIG_FILE = 'config.yaml';
/** BatchNorm's step counter (I64 scalars): in HF checkpoints, never read. */
const STEP_COUNTER = '.num_batches_tracked';
/** The RPN's 12 cell anchors: an nn.Parameter HF saves; kept (float32) so build can check it. */
export const CELL_ANCHORS = 'proposal_generator.anchor_generator.cell_anchors.0';

const FLOAT_DTYPES: readonly StDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export interface DetectorSelected<T> {
  name: string;
  shape: number[];
  entry: T;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listed(label: string, names: string[]): string[] {
  if (names.length === 0) return [];
  const head = names.slice(0, 12).join(', ');
  return [`${names.length} ${label}: ${head}${names.length > 12 ? ', …' : ''}`];
}

/**
 * The tensors the detector reads, in inventory order (cell anchors last when present).
 * Throws one WeightsError naming every missing, mis-shaped, non-float and unexpected tensor;
 * `*.num_batches_tracked` is the one kind of extra that is dropped silently.
 */
export function selectDetectorWeights<T extends { dtype: StDtype; shape: number[] }>(
  config: FrcnnConfig,
  entries: ReadonlyMap<string, T>,
  source: string,
): DetectorSelected<T>[] {
  const inventory = frcnnInventory(config);
  const anchorsPerCell = inventory.get('proposal_generator.rpn_head.objectness_logits.bias')?.[0];
  const missing: string[] = [];
  const wrong: string[] = [];
  const extra: string[] = [];
  const out: DetectorSelected<T>[] = [];
  for (const [name, shape] of inventory) {
    const e = entries.get(name);
    if (!e) missing.push(name);
    else if (!same(e.shape, shape) || !FLOAT_DTYPES.includes(e.dtype)) {
      wrong.push(
        `${name} (${e.dtype} ${formatShape(e.shape)}, config wants ${formatShape(shape)})`,
      );
    } else out.push({ name, shape, entry: e });
  }
  for (const [name, e] of entries) {
    if (inventory.has(name) || name.endsWith(STEP_COUNTER)) continue;
    if (name === CELL_ANCHORS && anchorsPerCell !== undefined) {
      const want = [anchorsPerCell, 4];
      if (!same(e.shape, want) || !FLOAT_DTYPES.includes(e.dtype)) {
        wrong.push(
          `${name} (${e.dtype} ${formatShape(e.shape)}, config wants ${formatShape(want)})`,
        );
      } else out.push({ name, shape: want, entry: e });
      continue;
    }
    extra.push(`${name} ${formatShape(e.shape)}`);
  }
  if (missing.length + wrong.length + extra.length > 0) {
    throw new WeightsError(
      [
        `weights do not match the ${DETECTOR_ARCHITECTURE} config.yaml`,
        ...listed('missing', missing),
        ...listed('mis-shaped', wrong),
        ...listed('unexpected', extra),
      ].join('; '),
      source,
    );
  }
  return out;
}

/**
 * How a detector tensor is stored at `dtype`. float16: the weights (rank ≥ 2) of the RPN head,
 * res5 and the box predictor; the backbone (stem, res2–res4) stays float32, as do biases,
 * BatchNorm statistics (folded into the convolutions at load) and the cell anchors. Measured on
 * the frcnn-narrow goldens (BENCHMARKS.md): float16 backbone convolutions move res4 enough to
 * change 4 of the 36 final boxes of img_a (and 23 of 300 proposals); float16 everywhere else
 * keeps all 36 boxes and ids. int8 (per output channel) changes the final 36 even when only
 * the box predictor is quantized, so it is refused.
 */
export function detectorQuantization(
  name: string,
  shape: readonly number[],
  dtype: OutputDtype,
): Quantization | undefined {
  if (dtype === 'int8') {
    throw new WeightsError(
      'int8 is not offered for the detector: it changes the final 36 boxes (see BENCHMARKS.md); use --dtype float16 or float32',
    );
  }
  if (
    dtype === 'float16' &&
    shape.length >= 2 &&
    !name.startsWith('backbone.') &&
    name !== CELL_ANCHORS
  ) {
    return { dtype: 'float16' };
  }
  return undefined;
}
