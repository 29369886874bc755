// LayerNorm(x + residual) over the last axis, one workgroup per row: mean, then the biased
// variance of the centred values (two passes, as torch.nn.LayerNorm), then scale and shift.
//
// Prepended by AddLayerNormProgram (add_layer_norm_webgpu.ts):
//   const WG: i32; fn residualAt(i: i32) -> f32 (0 when there is no residual).

var<workgroup> partial: array<f32, WG>;

fn rowSum(value: f32, tid: i32) -> f32 {
  partial[tid] = value;
  workgroupBarrier();
  for (var stride = WG / 2; stride > 0; stride /= 2) {
    if (tid < stride) {
      partial[tid] += partial[tid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

fn main() {
  let row = i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x);
  // No early return: rowSum's barriers need every invocation (surplus workgroups see width 0).
  let width = select(0, uniforms.width, row < uniforms.rows);
  let tid = i32(localIndex);
  let base = row * width;

  var sum = 0.0;
  for (var i = tid; i < width; i += WG) {
    sum += x[base + i] + residualAt(base + i);
  }
  let n = f32(max(width, 1));
  let mean = rowSum(sum, tid) / n;

  var sq = 0.0;
  for (var i = tid; i < width; i += WG) {
    let c = x[base + i] + residualAt(base + i) - mean;
    sq += c * c;
  }
  let inv = inverseSqrt(rowSum(sq, tid) / n + uniforms.eps);

  for (var i = tid; i < width; i += WG) {
    let c = x[base + i] + residualAt(base + i) - mean;
    result[base + i] = c * inv * gamma[i] + beta[i];
  }
}
