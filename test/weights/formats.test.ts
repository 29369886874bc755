import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32 } from '../../src/codec/raw_tensor.js';
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

describe('torch.save edge cases (test/weights/fixtures/make_edge.py)', () => {
  const dir = join(import.meta.dirname, 'fixtures');
  const expected = JSON.parse(readFileSync(join(dir, 'edge_expected.json'), 'utf8'))
    .tensors as Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  for (const file of ['edge_zip.bin', 'edge_zip64.bin', 'edge_legacy.bin']) {
    it(`${file}: dtypes, views, offsets, strides, parameters, tied tensors`, async () => {
      const f = await openWeightsFile(join(dir, file));
      expect(f.format).toBe(file.includes('zip') ? 'pytorch-zip' : 'pytorch-legacy');
      expect([...f.entries.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const e = f.entries.get(name)!;
        expect(e.dtype, name).toBe(want.dtype);
        expect(e.shape, name).toEqual(want.shape);
        const raw = { dtype: e.dtype, shape: e.shape, bytes: await e.read() };
        if (e.dtype === 'I64') {
          const dv = new DataView(raw.bytes.buffer, raw.bytes.byteOffset);
          const got = want.values.map((_, i) => String(dv.getBigInt64(i * 8, true)));
          expect(got, name).toEqual(want.values);
        } else {
          const got = Array.from(
            e.dtype === 'F64' ? new Float64Array(raw.bytes.slice().buffer) : toFloat32(raw),
          );
          expect(got, name).toEqual(
            (want.values as number[]).map((v) => (e.dtype === 'F64' ? v : Math.fround(v))),
          );
        }
      }
      expect(f.entries.get('tied')!.storageId).toBe(f.entries.get('f32')!.storageId);
      await f.close();
    });
  }
});
