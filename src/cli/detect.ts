/**
 * `lxmert detect --detector DIR --output OUT.safetensors [--tsv OUT.tsv] [--backend B]
 *  [--max-pixels N] IMAGE...`: run the bottom-up-attention detector on images and write its
 * outputs, named `<image>/<output>` as in the frcnn-narrow goldens (and optionally obj36 lines).
 */
import { basename, extname } from 'node:path';
import { GeneralizedRCNN, type FrcnnDetections } from '../detector/index.js';
import { UsageError } from '../errors.js';
import { readImageFile } from '../features/image_node.js';
import { formatObj36Line } from '../features/obj36_writer.js';
import { loadDetector } from '../weights/detector_node.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { writeSafetensors } from '../weights/safetensors.js';
import { parseOptions, positiveInt, required } from './args.js';
import { writeFileAtomic } from './atomic_write.js';
import { backendOption } from './backend_option.js';
import { checkOutputFolder } from './output_folder.js';
import { activateBackend, backendReport } from './runtime.js';
import { DEFAULT_MAX_PIXELS } from '../features/image_header.js';

const HELP = `usage: lxmert detect --detector DIR --output OUT.safetensors [--tsv OUT.tsv]
                     [--backend auto|cpu|wasm|webgpu] [--max-pixels N] IMAGE...

Runs the bottom-up-attention Faster R-CNN (GeneralizedRCNN; DIR is a 'lxmert convert' output
of unc-nlp/frcnn-vg-finetuned or the Hugging Face folder with config.yaml) on PNG/JPEG files
and writes, per image (named by its file name without extension), the tensors
<name>/image_size, raw_size (I64, H and W), scales_yx, boxes (raw-image pixels),
normalized_boxes, obj_ids, obj_probs, attr_ids, attr_probs (ids I64), roi_features,
visual_attention_mask (F32, 0 for padding when fewer than 36 boxes survive), proposals and
proposal_logits. --tsv also writes the detections as obj36 lines (airsplay/lxmert's format).
Images over --max-pixels (default ${DEFAULT_MAX_PIXELS}) are refused from their header.
Default backend: auto.`;

/** The goldens' names, dtypes and shapes (frcnn-narrow cases.json) of one image's outputs. */
export function detectionTensors(d: FrcnnDetections): Map<string, RawTensor> {
  const rows = d.normalizedBoxes.length / 4;
  const f32 = (v: ArrayLike<number>, shape: number[]): RawTensor => {
    const a = Float32Array.from(v);
    return { dtype: 'F32', shape, bytes: new Uint8Array(a.buffer) };
  };
  const i64 = (v: ArrayLike<number>, shape: number[]): RawTensor => {
    const a = BigInt64Array.from(Array.from(v, (x) => BigInt(x)));
    return { dtype: 'I64', shape, bytes: new Uint8Array(a.buffer) };
  };
  const p = d.proposalLogits.length;
  return new Map<string, RawTensor>([
    ['image_size', i64(d.imageSize, [2])],
    ['raw_size', i64(d.rawSize, [2])],
    ['scales_yx', f32(d.scalesYx, [2])],
    ['boxes', f32(d.boxes, [1, rows, 4])],
    ['normalized_boxes', f32(d.normalizedBoxes, [1, rows, 4])],
    ['obj_ids', i64(d.objIds, [1, rows])],
    ['obj_probs', f32(d.objProbs, [1, rows])],
    ['attr_ids', i64(d.attrIds, [1, rows])],
    ['attr_probs', f32(d.attrProbs, [1, rows])],
    ['roi_features', f32(d.roiFeatures, [1, rows, d.featureDim])],
    ['visual_attention_mask', f32(d.visualAttentionMask, [1, rows])],
    ['proposals', f32(d.proposals, [p, 4])],
    ['proposal_logits', f32(d.proposalLogits, [p])],
  ]);
}

/**
 * The detections as one obj36 line: the numDetections real rows, boxes in raw-image pixels
 * (an edge past the image by float32 rounding of the scale is clamped onto it).
 */
export function detectionsToObj36(d: FrcnnDetections, imgId: string): string {
  const [h, w] = [Number(d.rawSize[0]), Number(d.rawSize[1])];
  const n = d.numDetections;
  const boxes = Float32Array.from(d.boxes.subarray(0, n * 4));
  for (let i = 0; i < boxes.length; i++) {
    const lim = i % 2 === 0 ? w : h;
    boxes[i] = Math.min(Math.max(boxes[i], 0), lim);
  }
  return formatObj36Line({
    imgId,
    imgH: h,
    imgW: w,
    objectsId: Int32Array.from(d.objIds.subarray(0, n)),
    objectsConf: Float32Array.from(d.objProbs.subarray(0, n)),
    attrsId: Int32Array.from(d.attrIds.subarray(0, n)),
    attrsConf: Float32Array.from(d.attrProbs.subarray(0, n)),
    numBoxes: n,
    boxes,
    features: Float32Array.from(d.roiFeatures.subarray(0, n * d.featureDim)),
    featureDim: d.featureDim,
  });
}

/** Image names (file name without extension), refusing duplicates. */
export function imageNames(paths: string[]): string[] {
  const seen = new Map<string, string>();
  return paths.map((p) => {
    const name = basename(p, extname(p));
    const other = seen.get(name);
    if (other !== undefined) {
      throw new UsageError(`images ${other} and ${p} have the same name '${name}'; rename one`);
    }
    if (name.includes('/') || /[\t\r\n]/.test(name) || name === '') {
      throw new UsageError(`image ${p}: its name '${name}' cannot name tensors`);
    }
    seen.set(name, p);
    return name;
  });
}

export async function detect(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(
    'detect',
    argv,
    {
      detector: { type: 'string' },
      output: { type: 'string' },
      tsv: { type: 'string' },
      backend: { type: 'string' },
      'max-pixels': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const detectorDir = required(values, 'detector', 'detect');
  const output = required(values, 'output', 'detect');
  const tsv = values.tsv as string | undefined;
  const backend = backendOption(values.backend, 'auto');
  const maxPixels = positiveInt(values, 'max-pixels', DEFAULT_MAX_PIXELS);
  if (positionals.length === 0) {
    throw new UsageError("expected at least one IMAGE (see 'lxmert detect --help')");
  }
  const names = imageNames(positionals);
  await checkOutputFolder(output, '--output');
  if (tsv !== undefined) await checkOutputFolder(tsv, '--tsv');
  const det = await loadDetector(detectorDir); // host only: bad folders fail before a backend starts
  await activateBackend(backend);
  const model = GeneralizedRCNN.build(det.config, det.weights, { source: det.source });
  const tensors = new Map<string, RawTensor>();
  const lines: string[] = [];
  try {
    for (let i = 0; i < positionals.length; i++) {
      const image = await readImageFile(positionals[i], { maxPixels });
      const t0 = performance.now();
      const d = await model.detect(image);
      const ms = performance.now() - t0;
      for (const [k, v] of detectionTensors(d)) tensors.set(`${names[i]}/${k}`, v);
      if (tsv !== undefined) lines.push(detectionsToObj36(d, names[i]));
      process.stderr.write(
        `lxmert detect: ${names[i]}: ${d.numDetections} boxes (NMS ${d.nmsThreshold}) in ${ms.toFixed(0)} ms\n`,
      );
    }
  } finally {
    model.dispose();
  }
  await writeFileAtomic(output, writeSafetensors(tensors, { format: 'pt' }));
  if (tsv !== undefined) await writeFileAtomic(tsv, new TextEncoder().encode(lines.join('')));
  process.stderr.write(
    `lxmert detect: wrote ${tensors.size} tensors to ${output}${tsv ? ` and ${lines.length} lines to ${tsv}` : ''} (${backendReport()})\n`,
  );
}
