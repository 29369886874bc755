/**
 * `lxmert infer --model DIR --inputs IN.safetensors [--case NAME] --output OUT.safetensors
 *  [--backend cpu|wasm|webgpu|auto]`: run a model on inputs, write every output as float32.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InputError, WeightsError } from '../errors.js';
import { buildModel, forwardAll } from '../model/index.js';
import { loadCheckpoint } from '../weights/checkpoint.js';
import { fromFloat32, type RawTensor } from '../codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import { parseOptions, required } from './args.js';
import { writeFileAtomic } from './atomic_write.js';
import { backendOption } from './backend_option.js';
import { caseNames, inputsFromTensors } from './inputs_file.js';
import { activateBackend, storedFormat } from './runtime.js';

const HELP = `usage: lxmert infer --model DIR --inputs IN.safetensors [--case NAME] --output OUT.safetensors
                    [--backend auto|cpu|wasm|webgpu]

Runs the model in DIR (a Hugging Face checkpoint folder or a 'lxmert convert' output) on the
forward arguments in IN (input_ids, attention_mask, token_type_ids, visual_feats, visual_pos,
visual_attention_mask; ints as I64 or I32; with --case NAME, named NAME/<arg>) and writes every
output the model has to OUT as float32, named as Hugging Face names them (tuples as <name>.<i>).
Default backend: cpu.`;

export async function infer(argv: string[]): Promise<void> {
  const { values } = parseOptions('infer', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    case: { type: 'string' },
    output: { type: 'string' },
    backend: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const modelDir = required(values, 'model', 'infer');
  const inputsPath = required(values, 'inputs', 'infer');
  const outputPath = required(values, 'output', 'infer');
  const caseName = values.case as string | undefined;
  const backend = backendOption(values.backend, 'cpu');

  let inputBytes: Uint8Array;
  try {
    inputBytes = new Uint8Array(await readFile(inputsPath));
  } catch (e) {
    throw new InputError(
      '--inputs',
      'a readable safetensors file',
      `${inputsPath} (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  const tensors = readSafetensors(inputBytes, inputsPath);
  if (caseName && !caseNames(tensors).includes(caseName)) {
    throw new InputError(
      '--case',
      `one of: ${caseNames(tensors).join(', ') || '(no cases in the file)'}`,
      `'${caseName}'`,
    );
  }
  await checkOutputFolder(outputPath);
  await activateBackend(backend);
  const ckpt = await loadCheckpoint(modelDir);
  const model = buildModel(ckpt.config, ckpt.weights, {
    architecture: ckpt.architecture,
    source: ckpt.source,
    weightFormat: storedFormat(ckpt),
  });
  let inputs: ReturnType<typeof inputsFromTensors> | null = null;
  try {
    inputs = inputsFromTensors(tensors, caseName, inputsPath);
    const out = forwardAll(model, inputs);
    const result = new Map<string, RawTensor>();
    for (const [name, t] of Object.entries(out)) {
      result.set(name, fromFloat32((await t.data()) as Float32Array, t.shape));
    }
    tf.dispose(Object.values(out));
    if (result.size === 0) throw new WeightsError('the model produced no outputs', modelDir);
    await writeFileAtomic(outputPath, writeSafetensors(result, { format: 'pt' }));
    process.stderr.write(
      `lxmert infer: wrote ${result.size} outputs to ${outputPath} (backend ${tf.getBackend()})\n`,
    );
  } finally {
    if (inputs) tf.dispose(Object.values(inputs));
    model.dispose();
  }
}

/** The output's folder must exist before any work is done (the file is written at the end). */
async function checkOutputFolder(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const kind = await stat(folder).then(
    (st) => (st.isDirectory() ? 'dir' : 'other'),
    () => 'missing',
  );
  if (kind !== 'dir') {
    throw new InputError(
      '--output',
      'a path in an existing folder',
      `${path} (${folder} is ${kind === 'missing' ? 'missing' : 'not a folder'})`,
    );
  }
}
