// LayerNorm(x · Wᵀ + bias + residual) over the N outputs of each row, in one dispatch (HF's
// LxmertAttentionOutput / LxmertOutput: dense, residual add, LayerNorm). A workgroup owns RB whole
// rows, so the row statistics stay in the workgroup: its WG threads each hold CPT columns
// (n = tid + c·WG) of every row in registers, x's rows are staged in workgroup memory TKD values
// at a time, the weight read through its decoder. Then mean, the biased variance of the centred
// values (two passes, as torch.nn.LayerNorm), scale and shift.
//
// Prepended by DenseAddLayerNormProgram (dense_add_layer_norm_webgpu.ts): const RB, CPT, TKD, WG:
// i32; the weight decoders and group accessors (weight_decoders.ts: groupIndex, rowBegin,
// rowEnd, weightQuadG); fn loadInputQuad (dense_input*.wgsl); fn epilogueAt(g, row, n: i32) ->
// f32 (row 0 bias, 1 gamma, 2 beta, 3 int8 scales) and fn scaleAt(g, n: i32) -> f32.

const KQ = TKD / 4;

var<workgroup> xTile: array<vec4<f32>, RB * KQ>;
var<workgroup> partial: array<f32, RB * WG>;

// Σ over the workgroup of each row's value; every invocation gets the sums in partial[r·WG].
fn reduceRows(tid: i32) {
  workgroupBarrier();
  for (var stride = WG / 2; stride > 0; stride /= 2) {
    if (tid < stride) {
      for (var r = 0; r < RB; r++) {
        partial[r * WG + tid] += partial[r * WG + tid + stride];
      }
    }
    workgroupBarrier();
  }
}

fn main() {
  let tid = i32(localIndex);
  let g = groupIndex();
  let m0 = rowBegin(g) + i32(workgroupId.y) * RB;
  let mEnd = rowEnd(g);
  let n = uniforms.n;

  var acc: array<f32, RB * CPT>;
  for (var k0 = 0; k0 < uniforms.k; k0 += TKD) {
    for (var i = tid; i < RB * KQ; i += WG) {
      let m = m0 + i / KQ;
      var v = vec4<f32>(0.0);
      if (m < mEnd) {
        v = loadInputQuad(m, k0 + (i % KQ) * 4);
      }
      xTile[i] = v;
    }
    workgroupBarrier();
    for (var c = 0; c < CPT; c++) {
      let col = tid + c * WG;
      if (col < n) {
        for (var kk = 0; kk < KQ; kk++) {
          let w = weightQuadG(g, col, k0 + kk * 4, uniforms.k);
          for (var r = 0; r < RB; r++) {
            acc[r * CPT + c] += dot(xTile[r * KQ + kk], w);
          }
        }
      }
    }
    workgroupBarrier();
  }

  // acc ← x·Wᵀ·scale + bias + residual; rows past the group's end stay 0 (never written).
  var sums: array<f32, RB>;
  for (var c = 0; c < CPT; c++) {
    let col = tid + c * WG;
    if (col < n) {
      let scale = scaleAt(g, col);
      let b = epilogueAt(g, 0, col);
      for (var r = 0; r < RB; r++) {
        let m = m0 + r;
        var v = 0.0;
        if (m < mEnd) {
          v = acc[r * CPT + c] * scale + b + residual[m * n + col];
        }
        acc[r * CPT + c] = v;
        sums[r] += v;
      }
    }
  }
  for (var r = 0; r < RB; r++) {
    partial[r * WG + tid] = sums[r];
  }
  reduceRows(tid);
  var means: array<f32, RB>;
  for (var r = 0; r < RB; r++) {
    means[r] = partial[r * WG] / f32(n);
  }
  workgroupBarrier();

  var sq: array<f32, RB>;
  for (var c = 0; c < CPT; c++) {
    let col = tid + c * WG;
    if (col < n) {
      for (var r = 0; r < RB; r++) {
        let d = acc[r * CPT + c] - means[r];
        sq[r] += d * d;
      }
    }
  }
  for (var r = 0; r < RB; r++) {
    partial[r * WG + tid] = sq[r];
  }
  reduceRows(tid);

  for (var r = 0; r < RB; r++) {
    let m = m0 + r;
    if (m < mEnd) {
      let inv = inverseSqrt(partial[r * WG] / f32(n) + uniforms.eps);
      for (var c = 0; c < CPT; c++) {
        let col = tid + c * WG;
        if (col < n) {
          let normed = (acc[r * CPT + c] - means[r]) * inv;
          result[m * n + col] = normed * epilogueAt(g, 1, col) + epilogueAt(g, 2, col);
        }
      }
    }
  }
}
