/**
 * `lxmert infer --model DIR --inputs IN.safetensors [--case NAME] --output OUT.safetensors
 *  [--backend cpu|wasm|webgpu|auto]`: run a model on inputs, write every output as float32.
 */
import { lstat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { InputError, WeightsError } from '../errors.js';
import { limits } from '../limits.js';
import { readRegularFile } from '../safe_file.js';
import { buildModel, forwardAll } from '../model/index.js';
import { loadCheckpoint } from '../weights/checkpoint.js';
import { fromFloat32, type RawTensor } from '../codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import { parseOptions, required } from './args.js';
import { writeFileAtomic } from './atomic_write.js';
import { backendOption } from './backend_option.js';
import { FROM_HELP, fromOption } from './from_option.js';
import { caseNames, checkInputSizes, inputsFromTensors } from './inputs_file.js';
import { checkOutputFolder } from './output_folder.js';
import { activateBackend, storedFormat } from './runtime.js';

const HELP = `usage: lxmert infer --model DIR --inputs IN.safetensors [--case NAME] --output OUT.safetensors
                    [--backend auto|cpu|wasm|webgpu] [--from pt|tf]

Runs the model in DIR (a Hugging Face checkpoint folder, PyTorch or TF, or a 'lxmert convert'
output) on the
forward arguments in IN (input_ids, attention_mask, token_type_ids, visual_feats, visual_pos,
visual_attention_mask; ints as I64 or I32; with --case NAME, named NAME/<arg>) and writes every
output the model has to OUT as float32, named as Hugging Face names them (tuples as <name>.<i>).
Default backend: cpu.

${FROM_HELP}`;

export async function infer(argv: string[]): Promise<void> {
  const { values } = parseOptions('infer', argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    case: { type: 'string' },
    output: { type: 'string' },
    backend: { type: 'string' },
    from: { type: 'string' },
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
  const from = fromOption(values.from);

  await checkOutputPath(outputPath);
  const inputBytes = await readRegularFile(inputsPath, {
    maxBytes: limits().maxInputsBytes,
    limitName: 'maxInputsBytes',
    error: (msg, path) =>
      new InputError('--inputs', 'a readable safetensors file', `${path}: ${msg}`),
  });
  const tensors = readSafetensors(inputBytes, inputsPath);
  if (caseName && !caseNames(tensors).includes(caseName)) {
    throw new InputError(
      '--case',
      `one of: ${caseNames(tensors).join(', ') || '(no cases in the file)'}`,
      `'${caseName}'`,
    );
  }
  checkInputSizes(tensors, caseName, inputsPath);
  await activateBackend(backend);
  const ckpt = await loadCheckpoint(modelDir, { from });
  checkInputSizes(tensors, caseName, inputsPath, ckpt.config.maxPositionEmbeddings);
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
    try {
      for (const [name, t] of Object.entries(out)) {
        const values = (await t.data()) as Float32Array;
        checkFiniteOutput(values, name, modelDir);
        result.set(name, fromFloat32(values, t.shape));
      }
    } finally {
      tf.dispose(Object.values(out));
    }
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

/** An output with a NaN or ±Inf is an error: nothing is written, the exit is non-zero. */
function checkFiniteOutput(values: Float32Array, name: string, modelDir: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) {
      throw new WeightsError(
        `output '${name}' holds ${v} at element ${i}: the model or its inputs give non-finite ` +
          'values; nothing was written',
        modelDir,
      );
    }
  }
}

/**
 * Before any work: the output's folder must exist, and the output itself must not be a
 * folder or anything but a regular file (the file is written at the end, by a rename).
 */
async function checkOutputPath(path: string): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
    throw new InputError(
      '--output',
      'a file path (the output is a safetensors file)',
      `${path}, which is ${existing.isDirectory() ? 'an existing folder' : 'not a regular file'}`,
    );
  }
  await checkOutputFolder(path, '--output');
}
