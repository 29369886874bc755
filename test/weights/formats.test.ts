import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openWeightsFile } from '../../src/weights/reader.js';
import type { WeightsFile } from '../../src/weights/tensor_source.js';

const FIX = join(import.meta.dirname, '..', 'fixtures');

async function readAll(
  f: WeightsFile,
): Promise<Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>> {
  const out = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
  for (const [name, e] of f.entries)
    out.set(name, { dtype: e.dtype, shape: e.shape, bytes: await e.read() });
  await f.close();
  return out;
}

describe('checkpoint formats read to identical tensors', () => {
  const cases: [string, string][] = [
    ['lxmert-tiny', 'pytorch_model.bin'],
    ['lxmert-tiny', 'pytorch_model_legacy.bin'],
    ['lxmert-tiny-qa', 'pytorch_model.bin'],
    ['lxmert-tiny-sharp', 'pytorch_model.bin'],
  ];
  for (const [dir, file] of cases) {
    it(`${dir}/${file} equals model.safetensors`, async () => {
      const ref = await readAll(await openWeightsFile(join(FIX, dir, 'model.safetensors')));
      const got = await readAll(await openWeightsFile(join(FIX, dir, file)));
      expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
      for (const [name, r] of ref) {
        const g = got.get(name)!;
        expect(g.dtype, name).toBe(r.dtype);
        expect(g.shape, name).toEqual(r.shape);
        expect(Buffer.from(g.bytes).equals(Buffer.from(r.bytes)), name).toBe(true);
      }
    });
  }
});
