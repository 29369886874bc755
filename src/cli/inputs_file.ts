/** Read forward arguments from a safetensors file (`input_ids` … or `<case>/input_ids` …). */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import { limits } from '../limits.js';
import type { LxmertInputs } from '../model/index.js';
import { toFloat32, toInt32, type RawTensor } from '../codec/raw_tensor.js';

/** HF forward argument name → LxmertInputs key; ids are int32, the rest float32. */
const ARGS: Record<string, { key: keyof LxmertInputs; int: boolean }> = {
  input_ids: { key: 'inputIds', int: true },
  token_type_ids: { key: 'tokenTypeIds', int: true },
  attention_mask: { key: 'attentionMask', int: false },
  visual_feats: { key: 'visualFeats', int: false },
  visual_pos: { key: 'visualPos', int: false },
  visual_attention_mask: { key: 'visualAttentionMask', int: false },
};

/** Case names present in a file of `<case>/<arg>` tensors. */
export function caseNames(tensors: ReadonlyMap<string, RawTensor>): string[] {
  const names = new Set<string>();
  for (const k of tensors.keys()) {
    const i = k.lastIndexOf('/');
    if (i > 0 && ARGS[k.slice(i + 1)]) names.add(k.slice(0, i));
  }
  return [...names].sort();
}

/**
 * Build the forward arguments from tensors named as HF's forward arguments, under
 * `<caseName>/` when given. Integer inputs may be I64 or I32. Tensors that are not forward
 * arguments (a golden file's outputs) are ignored; without a case, names holding '/' are too.
 */
export function inputsFromTensors(
  tensors: ReadonlyMap<string, RawTensor>,
  caseName: string | undefined,
  file: string,
): LxmertInputs {
  const prefix = caseName ? `${caseName}/` : '';
  const out: Partial<Record<keyof LxmertInputs, tf.Tensor>> = {};
  for (const [arg, { key, int }] of Object.entries(ARGS)) {
    const raw = tensors.get(prefix + arg);
    if (!raw) continue;
    const isInt = raw.dtype.startsWith('I') || raw.dtype.startsWith('U') || raw.dtype === 'BOOL';
    if (int && !isInt) {
      throw new InputError(
        prefix + arg,
        'an integer tensor (I64 or I32)',
        `${raw.dtype} in ${file}`,
      );
    }
    if (!int && arg.startsWith('visual_') && arg !== 'visual_attention_mask' && isInt) {
      throw new InputError(prefix + arg, 'a float tensor (F32)', `${raw.dtype} in ${file}`);
    }
    out[key] = int
      ? tf.tensor(toInt32(raw, prefix + arg), raw.shape, 'int32')
      : tf.tensor(toFloat32(raw, prefix + arg), raw.shape, 'float32');
  }
  for (const required of ['input_ids', 'visual_feats', 'visual_pos']) {
    if (!tensors.has(prefix + required)) {
      tf.dispose(Object.values(out));
      const cases = caseNames(tensors);
      const hint =
        !caseName && cases.length
          ? ` (the file holds cases: ${cases.join(', ')}; pass --case)`
          : '';
      throw new InputError(prefix + required, `a tensor in ${file}`, `nothing${hint}`);
    }
  }
  return out as LxmertInputs;
}

/**
 * Check the sizes the inputs claim before any tensor is made: at most `limits().maxRegions`
 * regions per image, and at most `maxPositions` tokens (the model's max_position_embeddings,
 * else `limits().maxSequenceLength`).
 */
export function checkInputSizes(
  tensors: ReadonlyMap<string, RawTensor>,
  caseName: string | undefined,
  file: string,
  maxPositions = limits().maxSequenceLength,
): void {
  const prefix = caseName ? `${caseName}/` : '';
  const { maxRegions } = limits();
  for (const arg of ['visual_feats', 'visual_pos', 'visual_attention_mask']) {
    const t = tensors.get(prefix + arg);
    if (t && t.shape.length >= 2 && t.shape[1] > maxRegions) {
      throw new InputError(
        prefix + arg,
        `at most ${maxRegions} regions per image (limit maxRegions, see SECURITY.md)`,
        `${t.shape[1]} in ${file}`,
      );
    }
  }
  for (const arg of ['input_ids', 'token_type_ids', 'attention_mask']) {
    const t = tensors.get(prefix + arg);
    if (t && t.shape.length >= 2 && t.shape[1] > maxPositions) {
      throw new InputError(
        prefix + arg,
        `at most ${maxPositions} tokens (the model's max_position_embeddings)`,
        `${t.shape[1]} in ${file}`,
      );
    }
  }
}
