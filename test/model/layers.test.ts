/**
 * The model's layers are honest tf.js layers: call() and apply() give forward()'s outputs,
 * getConfig() rebuilds each layer over the same weights, and attribute names are HF's all the
 * way down (every state_dict name of the inventory resolves on the model, camelCased, through
 * the listed forced renames and the fused QKV projection only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { configFromHf, type LxmertConfig } from '../../src/config.js';
import { extendedMask } from '../../src/model/inputs.js';
import { LxmertForPreTraining } from '../../src/model/for_pretraining.js';
import { LxmertForQuestionAnswering } from '../../src/model/for_question_answering.js';
import { LxmertLMPredictionHead, LxmertPreTrainingHeads } from '../../src/model/heads.js';
import { LxmertModel } from '../../src/model/lxmert_model.js';
import { FORCED_RENAMES, LxmertModule, type WeightSource } from '../../src/model/module.js';
import { expectedWeights, tiedWeights } from '../../src/model/weight_names.js';
import { weightSourceFromMap } from '../../src/model/weight_source.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, disposeInputs, loadGolden } from '../helpers/golden.js';

const g = loadGolden('lxmert-tiny');
const cfg: LxmertConfig = configFromHf(
  JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')),
);
let weights: Map<string, RawTensor>;
let source: WeightSource;
let model: LxmertForPreTraining;

beforeAll(async () => {
  await useBackend('cpu');
  weights = readSafetensors(new Uint8Array(readFileSync(join(g.dir, 'model.safetensors'))));
  source = weightSourceFromMap(weights, 'lxmert-tiny', undefined, tiedWeights(cfg));
  model = new LxmertForPreTraining(cfg, source);
});
afterAll(() => model.dispose());

async function values(ts: tf.Tensor | tf.Tensor[]): Promise<number[][]> {
  const list = Array.isArray(ts) ? ts : [ts];
  return Promise.all(list.map(async (t) => Array.from(await t.data())));
}

/** Run `fn` in a tidy-like scope that frees everything it made once `check` is done. */
async function scoped(fn: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  tf.engine().startScope();
  try {
    await fn();
  } finally {
    tf.engine().endScope();
  }
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
}

describe('call() and apply() give forward()', () => {
  const c = g.cases.find((x) => x.name === 'b3_padded')!;

  it('LxmertForPreTraining, LxmertModel, LxmertForQuestionAnswering', async () => {
    await scoped(async () => {
      const x = caseInputs(g, c);
      const list = [x.inputIds, x.visualFeats, x.visualPos];
      const kwargs = {
        tokenTypeIds: x.tokenTypeIds,
        attentionMask: x.attentionMask,
        visualAttentionMask: x.visualAttentionMask,
      };
      const full = model.forward(x);
      const heads = ['prediction_logits', 'cross_relationship_score', 'question_answering_score'];
      const want = await values(heads.map((n) => full[n]));
      expect(await values(model.call(list, kwargs))).toEqual(want);
      expect(await values(model.apply(list, kwargs) as tf.Tensor[])).toEqual(want);

      const base = model.lxmert.forward(x);
      const wantBase = await values([base.language_output, base.vision_output, base.pooled_output]);
      expect(await values(model.lxmert.call(list, kwargs))).toEqual(wantBase);
      expect(await values(model.lxmert.apply(list, kwargs) as tf.Tensor[])).toEqual(wantBase);

      const qaCfg = { ...cfg, architectures: ['LxmertForQuestionAnswering'] };
      const qa = new LxmertForQuestionAnswering(qaCfg, source);
      try {
        const score = qa.forward(x).question_answering_score;
        expect(await values(qa.apply(list, kwargs) as tf.Tensor)).toEqual(await values(score));
        expect(await values(score)).toEqual([want[2]]); // same weights as the pretraining head
      } finally {
        qa.dispose();
      }
      disposeInputs(x);
    });
  });

  it('the encoder, its layers and the heads', async () => {
    await scoped(async () => {
      const x = caseInputs(g, c);
      const enc = model.lxmert.encoder;
      const emb = model.lxmert.embeddings.apply([x.inputIds, x.tokenTypeIds!]) as tf.Tensor3D;
      expect(await values(emb)).toEqual(
        await values(model.lxmert.embeddings.call([x.inputIds, x.tokenTypeIds!])),
      );
      const langMask = extendedMask(x.attentionMask!);
      const visnMask = extendedMask(x.visualAttentionMask!);
      const visn = enc.visnFc.apply([x.visualFeats, x.visualPos]) as tf.Tensor3D;

      const e = enc.forward(emb, langMask, x.visualFeats, x.visualPos, visnMask, false, false);
      const encOut = enc.apply([emb, x.visualFeats, x.visualPos], { langMask, visnMask });
      expect(await values(encOut as tf.Tensor[])).toEqual(await values([e.lang, e.visn]));

      const layer = enc.layer[0];
      const wantLayer = await values(layer.forward(emb, langMask).output);
      expect(await values(layer.apply(emb, { mask: langMask }) as tf.Tensor)).toEqual(wantLayer);
      const selfAtt = layer.attention;
      expect(await values(selfAtt.apply(emb, { mask: langMask }) as tf.Tensor)).toEqual(
        await values(selfAtt.forward(emb, langMask).output),
      );

      const xl = enc.xLayers[0];
      const r = xl.forward(emb, langMask, visn, visnMask);
      expect(await values(xl.apply([emb, visn], { langMask, visnMask }) as tf.Tensor[])).toEqual(
        await values([r.lang, r.visn]),
      );
      const cross = xl.visualAttention;
      expect(await values(cross.apply([emb, visn], { mask: visnMask }) as tf.Tensor)).toEqual(
        await values(cross.forward(emb, visn, visnMask).output),
      );

      const pooled = model.lxmert.pooler.apply(e.lang) as tf.Tensor2D;
      expect(await values(model.cls.apply([e.lang, pooled]) as tf.Tensor[])).toEqual(
        await values(model.cls.forward(e.lang, pooled)),
      );
      const obj = model.objPredictHead!;
      expect(await values(obj.apply(e.visn) as tf.Tensor[])).toEqual(
        await values(Object.values(obj.forward(e.visn))),
      );
      expect(await values(model.answerHead!.apply(pooled) as tf.Tensor)).toEqual(
        await values(model.answerHead!.call(pooled)),
      );
      disposeInputs(x);
    });
  });
});

/** Every module of the tree, parents first. */
function modules(m: LxmertModule): LxmertModule[] {
  const kids = (m as unknown as { children: LxmertModule[] }).children;
  return [m, ...kids.flatMap(modules)];
}

function className(m: LxmertModule): string {
  return (m.constructor as unknown as { className: string }).className;
}

function rebuild(m: LxmertModule, config: Record<string, unknown>): LxmertModule {
  const cfgBack = config.config as unknown as LxmertConfig;
  const prefix = config.prefix as string;
  const tied = model.lxmert.embeddings.wordEmbeddings;
  if (m instanceof LxmertModel) return new LxmertModel(cfgBack, source, prefix);
  if (m instanceof LxmertForPreTraining) return new LxmertForPreTraining(cfgBack, source);
  if (m instanceof LxmertLMPredictionHead || m instanceof LxmertPreTrainingHeads) {
    return new (m.constructor as typeof LxmertPreTrainingHeads)(cfgBack, prefix, source, tied);
  }
  const Ctor = m.constructor as new (c: LxmertConfig, p: string, s: WeightSource) => LxmertModule;
  return new Ctor(cfgBack, prefix, source);
}

describe('getConfig() rebuilds the layer', () => {
  it('every module of LxmertForPreTraining: same config, same parameters', async () => {
    const all = modules(model);
    expect(all.length).toBeGreaterThan(30);
    for (const m of all) {
      const config = JSON.parse(JSON.stringify(m.getConfig())) as Record<string, unknown>;
      expect(config.prefix, className(m)).toBe(m.prefix);
      const copy = rebuild(m, config);
      try {
        const withoutName = (c: tf.serialization.ConfigDict) =>
          Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'name'));
        expect(withoutName(copy.getConfig()), className(m)).toEqual(withoutName(m.getConfig()));
        expect(copy.constructor).toBe(m.constructor);
        const [a, b] = [m.deviceTensors(), copy.deviceTensors()];
        expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
        for (let i = 0; i < a.length; i++) {
          expect(Array.from(b[i].dataSync()), `${className(m)} tensor ${i}`).toEqual(
            Array.from(a[i].dataSync()),
          );
        }
      } finally {
        copy.dispose();
      }
    }
  });
});

/** camelCase of a snake_case HF attribute (`LayerNorm` and indices stay as they are). */
function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/**
 * The object an HF state_dict name's module path resolves to on `root`, or a message saying
 * where it stops. Allowed detours: FORCED_RENAMES, and query/key/value fused into `qkv`.
 */
function resolve(root: object, hfName: string): string | null {
  const path = hfName.split('.').slice(0, -1);
  let at: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (at instanceof Map) {
      at = at.get(seg);
    } else if (Array.isArray(at) && /^\d+$/.test(seg)) {
      at = at[Number(seg)];
    } else if (at && typeof at === 'object') {
      const o = at as Record<string, unknown>;
      const cls = at instanceof LxmertModule ? className(at) : '';
      const renamed = FORCED_RENAMES[`${cls}.${seg}`];
      if (['query', 'key', 'value'].includes(seg) && 'qkv' in o) return null;
      at = o[renamed ?? camel(seg)];
    } else {
      at = undefined;
    }
    if (at === undefined) return `${hfName}: stops at '${path.slice(0, i + 1).join('.')}'`;
  }
  return null;
}

describe("attribute names are HF's", () => {
  it('every inventory name of each class resolves on the model', () => {
    const qaCfg = { ...cfg, architectures: ['LxmertForQuestionAnswering'] };
    const qa = new LxmertForQuestionAnswering(qaCfg, source);
    const bare = new LxmertModel(cfg, source, 'lxmert');
    try {
      const problems = [
        ...expectedWeights(cfg, 'LxmertForPreTraining').map((w) => resolve(model, w.name)),
        ...expectedWeights(cfg, 'LxmertForQuestionAnswering').map((w) => resolve(qa, w.name)),
        ...expectedWeights(cfg, 'LxmertModel').map((w) => resolve(bare, w.name)),
      ].filter((p) => p !== null);
      expect(problems).toEqual([]);
      expect(resolve(model, 'lxmert.encoder.layer.0.nonsense.weight')).toMatch(/stops at/);
    } finally {
      qa.dispose();
      bare.dispose();
    }
  });

  it("the forced renames are exactly the names tf.js's Layer owns", () => {
    const layerOwns = (name: string) => name in tfl.layers.Layer.prototype;
    for (const [hf, ours] of Object.entries(FORCED_RENAMES)) {
      const [cls, attr] = hf.split('.');
      expect(layerOwns(attr), hf).toBe(true);
      const instance = modules(model).find((m) => className(m) === cls);
      expect(instance, cls).toBeDefined();
      expect(ours in instance!, `${cls}.${ours}`).toBe(true);
    }
    for (const name of ['LayerNorm', 'self', 'att', 'logitFc', 'cls', 'seqRelationship']) {
      expect(layerOwns(name), name).toBe(false);
    }
  });
});

describe('a model asks its weight source for exactly the inventory', () => {
  const variants: [
    string,
    Partial<LxmertConfig>,
    'LxmertForPreTraining' | 'LxmertModel' | 'LxmertForQuestionAnswering',
  ][] = [
    ['LxmertForPreTraining, every head', {}, 'LxmertForPreTraining'],
    [
      'LxmertForPreTraining, untied, no QA',
      { tieWordEmbeddings: false, taskQa: false },
      'LxmertForPreTraining',
    ],
    [
      'LxmertForPreTraining, no obj/attr heads',
      { visualObjLoss: false, visualAttrLoss: false },
      'LxmertForPreTraining',
    ],
    ['LxmertForPreTraining, no visual heads', { taskObjPredict: false }, 'LxmertForPreTraining'],
    ['LxmertForQuestionAnswering', {}, 'LxmertForQuestionAnswering'],
    ['LxmertModel', {}, 'LxmertModel'],
  ];
  for (const [what, change, arch] of variants) {
    it(what, () => {
      const c = { ...cfg, ...change };
      const asked = new Map<string, number[]>();
      const recording: WeightSource = {
        linearFormat: 'f32',
        get(name, shape) {
          expect(asked.has(name), `${name} asked twice`).toBe(false);
          asked.set(name, shape);
          return new Float32Array(shape.reduce((a, b) => a * b, 1));
        },
      };
      const m =
        arch === 'LxmertForPreTraining'
          ? new LxmertForPreTraining(c, recording)
          : arch === 'LxmertForQuestionAnswering'
            ? new LxmertForQuestionAnswering(c, recording)
            : new LxmertModel(c, recording);
      m.dispose();
      const tied = tiedWeights(c);
      const want = expectedWeights(c, arch)
        .filter((w) => !(w.name in tied))
        .map((w) => [w.name, w.shape]);
      expect([...asked].sort()).toEqual(want.sort());
    });
  }
});
