/** WebGPU program of LxmertGatherRows (gather_rows.wgsl): embedding rows from f32/f16/int8 tables. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { WeightFormat } from './names.js';
import { GATHER_ROWS_WGSL } from './wgsl_sources.js';

const MAX_DISPATCH = 65535;
const WG = 64;

/** WGSL reading element h of table row `row` for each storage format. */
function tableValue(format: WeightFormat): string {
  switch (format) {
    case 'f32':
      return 'fn tableValue(row: i32, h: i32) -> f32 { return table[row * uniforms.width + h]; }';
    case 'f16':
      return `fn tableValue(row: i32, h: i32) -> f32 {
  let word = table[row * ((uniforms.width + 1) / 2) + h / 2];
  return unpack2x16float(bitcast<u32>(word))[h % 2];
}`;
    case 'int8':
      return `fn tableValue(row: i32, h: i32) -> f32 {
  let word = table[row * ((uniforms.width + 3) / 4) + h / 4];
  let shift = u32(24 - 8 * (h % 4));
  return f32((word << shift) >> 24u) * scales[row];
}`;
  }
}

export class GatherRowsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = 'rows : i32, width : i32,';
  workgroupSize: [number, number, number] = [WG, 1, 1];
  private readonly format: WeightFormat;

  /** @param rows ids count; @param width H, the decoded row width */
  constructor(rows: number, width: number, format: WeightFormat) {
    this.format = format;
    this.outputShape = [rows, width];
    this.variableNames = format === 'int8' ? ['table', 'ids', 'scales'] : ['table', 'ids'];
    this.dispatchLayout = { x: [0, 1] };
    const groups = Math.ceil((rows * width) / WG);
    const dx = Math.min(groups, MAX_DISPATCH);
    this.dispatch = [dx, Math.ceil(groups / dx), 1];
    this.shaderKey = `lxmertGatherRows_${format}`;
  }

  getUserCode(): string {
    return [tableValue(this.format), GATHER_ROWS_WGSL].join('\n');
  }
}
