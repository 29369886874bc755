/**
 * tf.js compiles a WebGPU program once per shaderKey and reuses it for every later program with
 * the same key, so a compile-time choice missing from the key would silently run the wrong
 * shader. For each program class, a table of its constructor's compile-time choices (each value
 * must change the key and the compiled program) and runtime sizes (uniforms: same key, same
 * program), and over every combination: equal keys mean equal programs. No GPU needed.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { describe, expect, it } from 'vitest';
import { AddLayerNormProgram } from '../../kernels/add_layer_norm_webgpu.js';
import { AttentionProbsProgram } from '../../kernels/attention_probs_webgpu.js';
import { AttentionProgram } from '../../kernels/attention_webgpu.js';
import { DenseAddLayerNormProgram } from '../../kernels/dense_add_layer_norm_webgpu.js';
import { DenseProgram } from '../../kernels/dense_webgpu.js';
import { GatherRowsProgram } from '../../kernels/gather_rows_webgpu.js';
import type { Activation } from '../../kernels/types.js';

type Options = Record<string, unknown>;

interface Row {
  program: string;
  make: (o: Options) => WebGPUProgram;
  base: Options;
  /** Alternatives per option that change the compiled shader. */
  compile: Record<string, unknown[]>;
  /** Alternatives per option that only change uniforms and dispatch sizes. */
  runtime: Record<string, unknown[]>;
}

const ACTIVATIONS: Activation[] = [
  'linear',
  'gelu',
  'gelu_new',
  'gelu_fast',
  'quick_gelu',
  'relu',
  'silu',
  'tanh',
  'sigmoid',
];

const TABLE: Row[] = [
  {
    program: 'DenseProgram',
    make: (o) =>
      new DenseProgram(
        o.shape as number[],
        o.k as number,
        o.format as 'f32',
        o.act as Activation,
        o.f16 as boolean,
        o.variant as 'auto',
        o.split as number | undefined,
      ),
    base: {
      shape: [20, 768],
      k: 768,
      format: 'f32',
      act: 'gelu',
      f16: false,
      variant: 'auto',
      split: undefined,
    },
    compile: {
      split: [undefined, 8], // grouped: two weight sets
      format: ['f32', 'f16', 'int8'],
      act: ACTIVATIONS,
      f16: [false, true],
      variant: ['auto', 'tiled'], // 20 rows: auto = skinny
      k: [768, 770], // K % 4 == 0: vec4 loads
      shape: [
        [20, 768],
        [2, 50, 768], // 100 rows: auto = tiled
      ],
    },
    runtime: {
      shape: [
        [20, 768],
        [36, 768],
        [2, 10, 9500],
      ],
      k: [768, 1024, 12],
      split: [0, 8, 20], // with split set: the grouped program
    },
  },
  {
    program: 'DenseAddLayerNormProgram',
    make: (o) =>
      new DenseAddLayerNormProgram(
        o.shape as number[],
        o.k as number,
        o.format as 'f32',
        o.split as number | undefined,
      ),
    base: { shape: [56, 768], k: 768, format: 'f32', split: undefined },
    compile: {
      format: ['f32', 'f16', 'int8'],
      k: [768, 770],
      split: [undefined, 20],
      shape: [
        [56, 768],
        [56, 64], // columns a thread
      ],
    },
    runtime: {
      shape: [
        [56, 768],
        [2, 20, 768],
        [1, 760],
      ],
      k: [768, 3072],
      split: [20, 36],
    },
  },
  {
    program: 'GatherRowsProgram',
    make: (o) => new GatherRowsProgram(o.rows as number, o.width as number, o.format as 'f32'),
    base: { rows: 20, width: 768, format: 'f32' },
    compile: { format: ['f32', 'f16', 'int8'], width: [768, 770] },
    runtime: { rows: [20, 1, 3000], width: [768, 1024, 8] },
  },
  {
    program: 'AttentionProgram',
    make: (o) =>
      new AttentionProgram(
        o.batch as number,
        o.lq as number,
        o.heads as number,
        o.headDim as number,
        o.mask as boolean | [boolean, boolean],
        o.outRows as number | undefined,
      ),
    base: { batch: 1, lq: 20, heads: 12, headDim: 64, mask: true, outRows: undefined },
    compile: {
      headDim: [64, 32, 16, 128],
      // [x, false] is the one-group program's shader (group 1 has no mask to read)
      mask: [true, false, [true, true], [false, true]],
    },
    runtime: { batch: [1, 4], lq: [20, 36, 1], heads: [12, 2], outRows: [undefined, 56] },
  },
  {
    program: 'AttentionProbsProgram',
    make: (o) =>
      new AttentionProbsProgram(
        o.batch as number,
        o.lq as number,
        o.lk as number,
        o.heads as number,
        o.headDim as number,
        o.mask as boolean | [boolean, boolean],
      ),
    base: { batch: 1, lq: 20, lk: 36, heads: 12, headDim: 64, mask: true },
    compile: { headDim: [64, 32, 16], mask: [true, false, [true, true], [false, true]] },
    runtime: { batch: [1, 3], lq: [20, 36], lk: [36, 20, 1], heads: [12, 4] },
  },
  {
    program: 'AddLayerNormProgram',
    make: (o) => new AddLayerNormProgram(o.shape as number[], o.residual as boolean),
    base: { shape: [20, 768], residual: true },
    compile: {
      residual: [true, false],
      shape: [
        [20, 768],
        [20, 1536], // width ≥ 1024: 128-thread workgroups
      ],
    },
    runtime: {
      shape: [
        [20, 768],
        [2, 36, 768],
        [5, 7],
      ],
    },
  },
];

/** Everything that goes into the compiled pipeline besides the key. */
function compiled(p: WebGPUProgram): string {
  const q = p as WebGPUProgram & { variableComponents?: number[] };
  return JSON.stringify({
    code: p.getUserCode(),
    variables: p.variableNames,
    components: q.variableComponents ?? null,
    uniforms: p.uniforms ?? '',
    workgroup: p.workgroupSize,
    layout: p.dispatchLayout,
  });
}

function combinations(row: Row): Options[] {
  const values: Record<string, unknown[]> = {};
  for (const [k, v] of [...Object.entries(row.compile), ...Object.entries(row.runtime)]) {
    values[k] = [...(values[k] ?? []), ...v];
  }
  let out: Options[] = [row.base];
  for (const [k, vs] of Object.entries(values)) {
    out = out.flatMap((o) => vs.map((v) => ({ ...o, [k]: v })));
  }
  return out;
}

describe('shaderKey carries every compile-time choice', () => {
  for (const row of TABLE) {
    describe(row.program, () => {
      for (const [option, alternatives] of Object.entries(row.compile)) {
        it(`each ${option} gives its own key and its own shader`, () => {
          const programs = alternatives.map((v) => row.make({ ...row.base, [option]: v }));
          expect(new Set(programs.map((p) => p.shaderKey)).size).toBe(alternatives.length);
          expect(new Set(programs.map(compiled)).size).toBe(alternatives.length);
        });
      }

      for (const [option, alternatives] of Object.entries(row.runtime)) {
        it(`${option} as a runtime size keeps the key and the shader`, () => {
          const programs = alternatives.map((v) => row.make({ ...row.base, [option]: v }));
          expect(new Set(programs.map((p) => p.shaderKey)).size).toBe(1);
          expect(new Set(programs.map(compiled)).size).toBe(1);
        });
      }

      it('over every combination, programs with equal keys compile alike', () => {
        const byKey = new Map<string, string>();
        const clashes: string[] = [];
        for (const o of combinations(row)) {
          const p = row.make(o);
          const code = compiled(p);
          const seen = byKey.get(p.shaderKey);
          if (seen === undefined) byKey.set(p.shaderKey, code);
          else if (seen !== code) clashes.push(`${p.shaderKey} at ${JSON.stringify(o)}`);
        }
        expect(clashes).toEqual([]);
        expect(byKey.size).toBeGreaterThan(1);
      });
    });
  }
});
