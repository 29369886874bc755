/**
 * HF's `build_inputs_with_special_tokens`, `create_token_type_ids_from_sequences` and right
 * padding, in one pass into arrays of their final size.
 */
import type { Encoding } from './types.js';

/** Ids of a text (and pair) with the number of tokens of each that truncation keeps. */
export interface Truncated {
  a: readonly number[];
  keepA: number;
  b: readonly number[] | null;
  keepB: number;
}

export interface SpecialIds {
  cls: number;
  sep: number;
  pad: number;
}

/** Tokens of `t` with special tokens: 2 for a single text, 3 for a pair. */
export function assembledLength(t: Truncated): number {
  return t.keepA + 2 + (t.b === null ? 0 : t.keepB + 1);
}

/** `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, padded on the right to `padTo` if shorter. */
export function assemble(t: Truncated, padTo: number, ids: SpecialIds): Encoding {
  const n = assembledLength(t);
  const total = Math.max(n, padTo);
  const inputIds = new Array<number>(total);
  const tokenTypeIds = new Array<number>(total);
  const attentionMask = new Array<number>(total);
  let k = 0;
  const put = (id: number, type: number): void => {
    inputIds[k] = id;
    tokenTypeIds[k] = type;
    attentionMask[k] = 1;
    k++;
  };
  put(ids.cls, 0);
  for (let i = 0; i < t.keepA; i++) put(t.a[i] as number, 0);
  put(ids.sep, 0);
  if (t.b !== null) {
    for (let i = 0; i < t.keepB; i++) put(t.b[i] as number, 1);
    put(ids.sep, 1);
  }
  for (; k < total; k++) {
    inputIds[k] = ids.pad;
    tokenTypeIds[k] = 0;
    attentionMask[k] = 0;
  }
  return { inputIds, tokenTypeIds, attentionMask };
}
