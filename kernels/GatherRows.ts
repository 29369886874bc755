/** LxmertGatherRows for webgpu: embedding rows by id from f32 / packed f16 / packed int8 tables. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../src/errors.js';
import { packedWidth } from './Dense.js';
import { GatherRowsProgram } from './gather_rows_webgpu.js';
import { LXMERT_GATHER_ROWS, type GatherRowsAttrs } from './names.js';

/** Check a table/ids pair; returns the number of ids. */
export function checkGatherRows(
  table: TensorInfo,
  ids: TensorInfo,
  scales: TensorInfo | undefined,
  a: GatherRowsAttrs,
): number {
  const dtype = a.format === 'f32' ? 'float32' : 'int32';
  const width = packedWidth(a.format, a.width);
  if (table.dtype !== dtype || table.shape.length !== 2 || table.shape[1] !== width) {
    throw new InputError(
      'table',
      `${dtype} [rows, ${width}] for format ${a.format}`,
      `${table.dtype} ${formatShape(table.shape)}`,
    );
  }
  if (ids.dtype !== 'int32' || ids.shape.length !== 1) {
    throw new InputError('ids', 'int32 [n]', `${ids.dtype} ${formatShape(ids.shape)}`);
  }
  if (a.format === 'int8' && (!scales || scales.shape[0] !== table.shape[0])) {
    throw new InputError(
      'scales',
      `[${table.shape[0]}]`,
      scales ? formatShape(scales.shape) : 'none',
    );
  }
  return ids.shape[0];
}

export const gatherRowsWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const { table, ids, scales } = inputs as Record<string, TensorInfo | undefined>;
  if (!table || !ids) throw new Error(`${LXMERT_GATHER_ROWS}: table and ids are required`);
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
