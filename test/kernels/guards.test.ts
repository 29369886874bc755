/**
 * The fused kernels' guards on both twins: the same bad call throws the same InputError, naming
 * the argument, from the tf-op kernel (cpu) and from the WebGPU kernel, before any work.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { InputError } from '../../src/errors.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  LXMERT_DENSE_ADD_LAYER_NORM,
  LXMERT_GATHER_ROWS,
  LXMERT_GROUPED_ATTENTION,
} from '../../kernels/names.js';
import { registerLxmertKernels } from '../../kernels/register.js';
import { useWebGPU } from './webgpu_env.js';

interface BadCall {
  what: string;
  kernel: string;
  inputs: () => tf.NamedTensorMap;
  attrs: Record<string, string | number | boolean>;
  /** The argument the InputError must name. */
  argument: string;
}

const f = (shape: number[]) => tf.zeros(shape, 'float32');
const i = (shape: number[]) => tf.zeros(shape, 'int32');
const dense = { activation: 'linear', format: 'f32', inFeatures: 8 };
const attn = { numHeads: 2, hidden: 8, qOffset: 0, kOffset: 0, vOffset: 0, returnProbs: false };
// Two groups over 10 stacked rows (batch 1): 4 language rows, then 6 vision rows.
const grouped = {
  numHeads: 2,
  hidden: 8,
  batch: 1,
  groups: 2,
  qRow: 0,
  lq: 4,
  kRow: 4,
  lk: 6,
  qRow1: 4,
  lq1: 6,
  kRow1: 0,
  lk1: 4,
  returnProbs: false,
};

const CALLS: BadCall[] = [
  {
    what: 'dense without bias',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 8]), weight: f([4, 8]) }),
    attrs: dense,
    argument: 'bias',
  },
  {
    what: 'dense with x of the wrong width',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 7]), weight: f([4, 8]), bias: f([4]) }),
    attrs: dense,
    argument: 'x',
  },
  {
    what: 'dense with a weight not as wide as inFeatures',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 8]), weight: f([4, 6]), bias: f([4]) }),
    attrs: dense,
    argument: 'weight',
  },
  {
    what: 'dense f16 with float32 words',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 8]), weight: f([4, 4]), bias: f([4]) }),
    attrs: { ...dense, format: 'f16' },
    argument: 'weight',
  },
  {
    what: 'dense int8 without scales',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 8]), weight: i([4, 2]), bias: f([4]) }),
    attrs: { ...dense, format: 'int8' },
    argument: 'scales',
  },
  {
    what: 'dense with a bias of the wrong length',
    kernel: LXMERT_DENSE,
    inputs: () => ({ x: f([2, 8]), weight: f([4, 8]), bias: f([3]) }),
    attrs: dense,
    argument: 'bias',
  },
  {
    what: 'attention without v',
    kernel: LXMERT_ATTENTION,
    inputs: () => ({ q: f([1, 3, 8]), k: f([1, 3, 8]) }),
    attrs: attn,
    argument: 'v',
  },
  {
    what: 'attention with a rank-2 q',
    kernel: LXMERT_ATTENTION,
    inputs: () => ({ q: f([3, 8]), k: f([1, 3, 8]), v: f([1, 3, 8]) }),
    attrs: attn,
    argument: 'q',
  },
  {
    what: 'attention with a mask of the wrong length',
    kernel: LXMERT_ATTENTION,
    inputs: () => ({ q: f([1, 3, 8]), k: f([1, 4, 8]), v: f([1, 4, 8]), mask: f([1, 3]) }),
    attrs: attn,
    argument: 'mask',
  },
  {
    what: 'add-LayerNorm with gamma of the wrong width',
    kernel: LXMERT_ADD_LAYER_NORM,
    inputs: () => ({ x: f([2, 8]), gamma: f([7]), beta: f([8]) }),
    attrs: { eps: 1e-12 },
    argument: 'gamma',
  },
  {
    what: 'add-LayerNorm with a residual of another shape',
    kernel: LXMERT_ADD_LAYER_NORM,
    inputs: () => ({ x: f([2, 8]), residual: f([1, 8]), gamma: f([8]), beta: f([8]) }),
    attrs: { eps: 1e-12 },
    argument: 'residual',
  },
  {
    what: 'gather rows without ids',
    kernel: LXMERT_GATHER_ROWS,
    inputs: () => ({ table: f([5, 8]) }),
    attrs: { format: 'f32', width: 8 },
    argument: 'ids',
  },
  {
    what: 'gather rows with float ids',
    kernel: LXMERT_GATHER_ROWS,
    inputs: () => ({ table: f([5, 8]), ids: f([2]) }),
    attrs: { format: 'f32', width: 8 },
    argument: 'ids',
  },
  {
    what: 'gather rows int8 with scales for another row count',
    kernel: LXMERT_GATHER_ROWS,
    inputs: () => ({ table: i([5, 2]), ids: i([2]), scales: f([4]) }),
    attrs: { format: 'int8', width: 8 },
    argument: 'scales',
  },
  {
    what: 'grouped dense with a split outside the rows',
    kernel: LXMERT_DENSE,
    inputs: () => ({
      x: f([3, 8]),
      weight: f([4, 8]),
      bias: f([4]),
      weight1: f([4, 8]),
      bias1: f([4]),
    }),
    attrs: { ...dense, split: 4 },
    argument: 'split',
  },
  {
    what: 'grouped dense with a second weight of another shape',
    kernel: LXMERT_DENSE,
    inputs: () => ({
      x: f([3, 8]),
      weight: f([4, 8]),
      bias: f([4]),
      weight1: f([5, 8]),
      bias1: f([5]),
    }),
    attrs: { ...dense, split: 1 },
    argument: 'weight1',
  },
  {
    what: 'dense + add + LayerNorm with a residual of another shape',
    kernel: LXMERT_DENSE_ADD_LAYER_NORM,
    inputs: () => ({ x: f([3, 8]), residual: f([3, 5]), weight: f([4, 8]), epilogue: f([3, 4]) }),
    attrs: { format: 'f32', inFeatures: 8, split: 3, eps: 1e-12 },
    argument: 'residual',
  },
  {
    what: 'dense + add + LayerNorm on int8 without the scales row in its epilogue',
    kernel: LXMERT_DENSE_ADD_LAYER_NORM,
    inputs: () => ({ x: f([3, 8]), residual: f([3, 4]), weight: i([4, 2]), epilogue: f([3, 4]) }),
    attrs: { format: 'int8', inFeatures: 8, split: 3, eps: 1e-12 },
    argument: 'epilogue',
  },
  {
    what: 'grouped attention over a qkv not 3·hidden wide',
    kernel: LXMERT_GROUPED_ATTENTION,
    inputs: () => ({ qkv: f([10, 16]) }),
    attrs: { ...grouped },
    argument: 'qkv',
  },
  {
    what: "grouped attention whose second group's keys run past the rows",
    kernel: LXMERT_GROUPED_ATTENTION,
    inputs: () => ({ qkv: f([10, 24]) }),
    attrs: { ...grouped, kRow1: 8 },
    argument: 'kRow1',
  },
  {
    what: "grouped attention with group 1's mask of the wrong length",
    kernel: LXMERT_GROUPED_ATTENTION,
    inputs: () => ({ qkv: f([10, 24]), mask1: f([1, 5]) }),
    attrs: { ...grouped },
    argument: 'mask1',
  },
];

function expectGuard(c: BadCall): void {
  const before = tf.memory().numTensors;
  let error: unknown;
  tf.tidy(() => {
    try {
      tf.engine().runKernel(c.kernel, c.inputs(), c.attrs);
    } catch (e) {
      error = e;
    }
  });
  expect(error, c.what).toBeInstanceOf(InputError);
  expect((error as InputError).argument, c.what).toBe(c.argument);
  expect(tf.memory().numTensors).toBe(before);
}

describe('kernel guards on the tf-op twin (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    registerLxmertKernels();
  });
  for (const c of CALLS) it(c.what, () => expectGuard(c));
});

describe('kernel guards on the WebGPU twin', () => {
  let ready = false;
  beforeAll(async () => {
    ready = (await useWebGPU()) !== null;
  });
  afterAll(async () => {
    await releaseWebGPU();
  });
  for (const c of CALLS) {
    it(c.what, (ctx) => {
      if (!ready) ctx.skip();
      expectGuard(c);
    });
  }
});
