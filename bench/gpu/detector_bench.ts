/**
 * The detector case of the GPU kit (one bundle, .bench/gpu/detector.mjs):
 *   node detector.mjs --write DIR      full-size seeded random weights (HF names, the real
 *                                      unc-nlp/frcnn-vg-finetuned shapes), config.yaml and the
 *                                      synthetic 640x480 image.png, as bench/make_random_detector.mjs
 *   node detector.mjs --detector DIR [--backend webgpu] [--runs 3] [--warmup 1]
 *                     [--submit-batch 1] [--json]
 *                                      `lxmert bench --detector DIR --image DIR/image.png`:
 *                                      time per image, dispatches, read-backs, GPU bytes, peak
 *                                      tensor bytes (last line JSON)
 * bench/gpu/run.sh runs --write, calibrates the weights with bench/frcnn_torch.py when PyTorch
 * is there, then this and the PyTorch peer on the same weights.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { releaseWebGPU, selectBackend, type BackendPreference } from '../../src/backend.js';
import { benchDetector, syntheticImage } from '../../src/cli/bench_detector.js';
import { frcnnFullConfig, randomFrcnnWeights } from '../../src/detector/index.js';
import { writeSafetensors } from '../../src/weights/safetensors.js';
import { FULL_CONFIG_YAML } from './full_config_yaml.js';

const { values: args } = parseArgs({
  options: {
    write: { type: 'string' },
    detector: { type: 'string' },
    backend: { type: 'string', default: 'webgpu' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    'submit-batch': { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

if (args.write) {
  const dir = args.write;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), FULL_CONFIG_YAML);
  writeFileSync(
    join(dir, 'model.safetensors'),
    writeSafetensors(randomFrcnnWeights(frcnnFullConfig(), 0), { format: 'pt' }),
  );
  const img = syntheticImage(640, 480, 0);
  writeFileSync(
    join(dir, 'image.png'),
    encode({ width: 640, height: 480, data: img.data, channels: 4, depth: 8 }),
  );
  console.log(`wrote ${dir}`);
} else {
  if (!args.detector) throw new Error('give --write DIR or --detector DIR');
  const sel = await selectBackend(args.backend as BackendPreference);
  process.stderr.write(`backend: ${sel.backend} (${sel.reason})\n`);
  try {
    await benchDetector({
      detector: args.detector,
      image: join(args.detector, 'image.png'),
      runs: Number(args.runs),
      warmup: Number(args.warmup),
      seed: 0,
      submitBatch: Number(args['submit-batch']),
      json: args.json,
      backend: sel.backend,
    });
  } finally {
    await releaseWebGPU();
  }
}
