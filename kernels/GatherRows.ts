/** LxmertGatherRows for webgpu: embedding rows by id from f32 / packed f16 / packed int8 tables. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { checkGatherRows, requireInputs } from './guards.js';
import { GatherRowsProgram } from './gather_rows_webgpu.js';
import { LXMERT_GATHER_ROWS, type GatherRowsAttrs } from './names.js';

export const gatherRowsWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { table, ids } = requireInputs(LXMERT_GATHER_ROWS, named, ['table', 'ids']);
  const scales = named.scales;
  const a = attrs as unknown as GatherRowsAttrs;
  const rows = checkGatherRows(table, ids, scales, a);
  const program = new GatherRowsProgram(rows, a.width, a.format);
  const uniforms = [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [a.width] },
  ];
  const tensors = a.format === 'int8' ? [table, ids, scales!] : [table, ids];
  return (backend as WebGPUBackend).runWebGPUProgram(program, tensors, 'float32', uniforms);
};

export const gatherRowsWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_GATHER_ROWS,
  backendName: 'webgpu',
  kernelFunc: gatherRowsWebGPU,
};
