/**
 * TF checkpoints (`tf_model.h5`): both fixtures (TFLxmertForPreTraining, TFLxmertModel) load and
 * convert to exactly the tensors of lxmert-tiny's safetensors, in every output dtype; a sharded
 * `tf_model.h5.index.json` with chunked `layer_names0…` attributes gives the same; `--from`
 * picks TF or PyTorch weights when a folder has both.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { tfToPtName } from '../../src/weights/h5_names.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { fixtureVariables, writeKeras, writeTfShards } from './h5_files.js';
import { FIXTURES, tempDir } from './helpers.js';

const tmp = tempDir('h5');
const TIED = 'cls.predictions.decoder.weight';
const WORD = 'lxmert.embeddings.word_embeddings.weight';
let n = 0;
const out = (tag: string) => join(tmp, `out-${tag}-${n++}`);

const reference = (): Map<string, RawTensor> =>
  readSafetensors(new Uint8Array(readFileSync(join(FIXTURES, 'lxmert-tiny', 'model.safetensors'))));

/** lxmert-tiny's safetensors under a TF fixture's config (the same class as the h5 holds). */
function safetensorsTwin(tfModel: string): string {
  const dir = join(tmp, `${tfModel}-as-safetensors`);
  mkdirSync(dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(FIXTURES, tfModel, 'config.json'), 'utf8'));
  cfg.architectures = cfg.architectures.map((a: string) => a.replace(/^TF/, ''));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  copyFileSync(join(FIXTURES, 'lxmert-tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

function sameBytes(a: RawTensor | undefined, b: RawTensor | undefined): boolean {
  return !!a && !!b && Buffer.from(a.bytes).equals(Buffer.from(b.bytes));
}

describe('the TF name rule (HF convert_tf_weight_name_to_pt_weight_name)', () => {
  it.each([
    [
      'tf_lxmert_for_pre_training/lxmert/encoder/layer_._0/attention/self/query/kernel:0',
      'lxmert.encoder.layer.0.attention.self.query.weight',
      true,
    ],
    [
      'tf_lxmert_model/lxmert/embeddings/position_embeddings/embeddings:0',
      'lxmert.embeddings.position_embeddings.weight',
      false,
    ],
    [
      'tf_lxmert_model/lxmert/embeddings/word_embeddings/weight:0',
      'lxmert.embeddings.word_embeddings.weight',
      false,
    ],
    ['m/lxmert/embeddings/LayerNorm/gamma:0', 'lxmert.embeddings.LayerNorm.weight', false],
    ['m/lxmert/embeddings/LayerNorm/beta:0', 'lxmert.embeddings.LayerNorm.bias', false],
    ['m/answer_head/logit_fc_._3/kernel:0', 'answer_head.logit_fc.3.weight', true],
    ['m/obj_predict_head/decoder_dict.obj/bias:0', 'obj_predict_head.decoder_dict.obj.bias', false],
    ['m/a___b/x/kernel:0', 'b.x.weight', true],
    ['final_logits_bias:0', 'final_logits_bias', false],
  ])('%s → %s', (tf, pt, transpose) => {
    expect(tfToPtName(tf)).toEqual({ name: pt, transpose });
  });
});

describe.each([
  ['lxmert-tiny-tf', 'LxmertForPreTraining'],
  ['lxmert-tiny-tf-model', 'LxmertModel'],
])('%s', (model, arch) => {
  it(`loadCheckpoint: ${arch}, every tensor identical to lxmert-tiny's safetensors`, async () => {
    const ck = await loadCheckpoint(join(FIXTURES, model));
    expect(ck.architecture).toBe(arch);
    expect(ck.source).toBe(join(FIXTURES, model, 'tf_model.h5'));
    const ref = reference();
    const prefix = arch === 'LxmertModel' ? 'lxmert.' : '';
    expect(ck.weights.size).toBeGreaterThan(100);
    for (const [name, t] of ck.weights) {
      expect(sameBytes(t, ref.get(prefix + name)), name).toBe(true);
      expect(t.shape, name).toEqual(ref.get(prefix + name)!.shape);
    }
    if (arch === 'LxmertForPreTraining') {
      expect(ck.weights.get(TIED)).toBe(ck.weights.get(WORD)); // tied, not stored in TF
      expect(ck.weights.size).toBe(ref.size);
    }
  });

  for (const dtype of ['float32', 'float16', 'int8'] as const) {
    it(`converts (${dtype}) to the same shards as lxmert-tiny's safetensors`, async () => {
      const a = await convertCheckpoint(join(FIXTURES, model), out(dtype), { dtype });
      const b = await convertCheckpoint(safetensorsTwin(model), out(`${dtype}-st`), { dtype });
      expect(a.manifest.architecture).toBe(arch);
      expect(a.manifest.shards).toEqual(b.manifest.shards);
      expect(a.manifest.weightsManifest).toEqual(b.manifest.weightsManifest);
      expect(a.manifest.tiedWeights).toEqual(b.manifest.tiedWeights);
      expect(a.manifest.source.files.map((f) => f.path)).toEqual(['tf_model.h5']);
      expect((a.manifest.config as { architectures: string[] }).architectures[0]).toMatch(/^TF/);
      const ck = await loadCheckpoint(a.outDir);
      const ck2 = await loadCheckpoint(b.outDir);
      for (const [name, t] of ck2.weights)
        expect(sameBytes(ck.weights.get(name), t), name).toBe(true);
    });
  }
});

describe('sharded tf_model.h5.index.json (HF tf_shard_checkpoint layout)', () => {
  it('three shards with chunked layer_names0… convert like the single file', async () => {
    const dir = join(tmp, 'tf-sharded');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'lxmert-tiny-tf', 'config.json'), join(dir, 'config.json'));
    await writeTfShards(dir, await fixtureVariables('lxmert-tiny-tf'), 3, 50);
    const a = await convertCheckpoint(dir, out('sharded'));
    const b = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny-tf'), out('single'));
    expect(a.manifest.shards).toEqual(b.manifest.shards);
    expect(a.manifest.source.files.map((f) => f.path)).toEqual([
      'tf_model.h5.index.json',
      'tf_model-00001-of-00003.h5',
      'tf_model-00002-of-00003.h5',
      'tf_model-00003-of-00003.h5',
    ]);
    const ck = await loadCheckpoint(dir);
    expect(sameBytes(ck.weights.get(TIED), reference().get(WORD))).toBe(true);
  });

  it('an index naming a variable that is in none of the shards is refused', async () => {
    const dir = join(tmp, 'tf-sharded-missing');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'lxmert-tiny-tf', 'config.json'), join(dir, 'config.json'));
    await writeTfShards(dir, await fixtureVariables('lxmert-tiny-tf'), 3, 50);
    const indexPath = join(dir, 'tf_model.h5.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    const missing = 'tf_lxmert_for_pre_training/lxmert/pooler/extra/kernel:0';
    index.weight_map[missing] = 'tf_model-00001-of-00003.h5';
    writeFileSync(indexPath, JSON.stringify(index));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `1 tensor(s) named in the index are not in their shard: ${missing} (tf_model-00001-of-00003.h5)`,
    );
  });
});

describe('Keras layout with chunked attributes', () => {
  it('layer_names0… and weight_names0… (as Keras splits long lists) read like the fixture', async () => {
    const dir = join(tmp, 'tf-chunked');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'lxmert-tiny-tf', 'config.json'), join(dir, 'config.json'));
    await writeKeras(join(dir, 'tf_model.h5'), await fixtureVariables('lxmert-tiny-tf'), {
      chunk: 3,
    });
    const a = await convertCheckpoint(dir, out('chunked'));
    const b = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny-tf'), out('single'));
    expect(a.manifest.shards).toEqual(b.manifest.shards);
  });
});

describe('a folder with PyTorch and TF weights', () => {
  it("reads PyTorch by default and TF with from: 'tf'", async () => {
    const dir = safetensorsTwin('lxmert-tiny-tf');
    copyFileSync(join(FIXTURES, 'lxmert-tiny-tf', 'tf_model.h5'), join(dir, 'tf_model.h5'));
    expect((await loadCheckpoint(dir)).source).toBe(join(dir, 'model.safetensors'));
    expect((await loadCheckpoint(dir, { from: 'tf' })).source).toBe(join(dir, 'tf_model.h5'));
    expect((await loadCheckpoint(dir, { from: 'pt' })).source).toBe(join(dir, 'model.safetensors'));
    const r = await convertCheckpoint(dir, out('from-tf'), { from: 'tf' });
    expect(r.manifest.source.files.map((f) => f.path)).toEqual(['tf_model.h5']);
  });
});
