/** WebGPU program of LxmertGatherRows (gather_rows.wgsl): embedding rows from f32/f16/int8 tables. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { WeightFormat } from './names.js';
import { weightDecoder } from './weight_decoders.js';
import { GATHER_ROWS_WGSL } from './wgsl_sources.js';

const MAX_DISPATCH = 65535;
const WG = 64;

export class GatherRowsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents?: number[];
  uniforms = 'rows : i32, width : i32,';
  workgroupSize: [number, number, number] = [WG, 1, 1];
  private readonly decoder: string;

  /** @param rows ids count; @param width H, the decoded row width */
  constructor(rows: number, width: number, format: WeightFormat) {
    // Whole-quad loads need width % 4 == 0 (then every row starts on a 16-byte boundary).
    const vec4 = width % 4 === 0;
    const decoder = weightDecoder(format, vec4);
    this.decoder = decoder.wgsl;
    this.outputShape = [rows, width];
    this.variableNames = format === 'int8' ? ['w', 'ids', 'scales'] : ['w', 'ids'];
    if (vec4)
      this.variableComponents = [decoder.components, 1, 1].slice(0, this.variableNames.length);
    this.dispatchLayout = { x: [0, 1] };
    const groups = Math.ceil((rows * width) / WG);
    const dx = Math.min(groups, MAX_DISPATCH);
    this.dispatch = [dx, Math.ceil(groups / dx), 1];
    this.shaderKey = `lxmertGatherRows_${format}_${vec4}`;
  }

  getUserCode(): string {
    return [this.decoder, GATHER_ROWS_WGSL].join('\n');
  }
}
