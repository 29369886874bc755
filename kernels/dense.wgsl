// y[m, n] = act(Σ_k x[m, k] · W[n, k] + bias[n]) for x [M, K] and W in HF layout [N, K], the
// weight kept in its storage format (float32, packed float16 pairs or packed int8 quads) and
// decoded while the tile is staged in workgroup memory. 64 threads compute a TM × TN tile, each
// a 4 × 4 block, over K in TKD-wide steps; tiles hold vec4s along K.
//
// Prepended by DenseProgram (dense_webgpu.ts): const TM, TN, TKD, WG: i32; alias TileT (vec4 of
// f32, or of f16 where the device has shader-f16); the group accessors of dense_webgpu.ts
// (groupIndex, rowBegin, rowEnd, rowsMax, weightQuadG, weightScaleG, biasG: a grouped call's
// workgroup z picks rows and weight set) over the weight decoders (weights_*.wgsl);
// fn loadInputQuad(m: i32, k: i32) -> vec4<f32> (dense_input*.wgsl); fn activate(v: f32) -> f32
// (activations.wgsl).

const KQ = TKD / 4;

var<workgroup> xTile: array<TileT, TM * KQ>;
var<workgroup> wTile: array<TileT, TN * KQ>;

fn main() {
  let tid = i32(localIndex);
  let tx = tid % 8;
  let ty = tid / 8;
  let g = groupIndex();
  let m0 = rowBegin(g) + i32(workgroupId.y) * TM;
  let mEnd = rowEnd(g);
  let n0 = i32(workgroupId.x) * TN;

  var acc: array<f32, 16>;
  for (var k0 = 0; k0 < uniforms.k; k0 += TKD) {
    for (var i = tid; i < TM * KQ; i += WG) {
      xTile[i] = TileT(loadInputQuad(m0 + i / KQ, k0 + (i % KQ) * 4));
    }
    for (var i = tid; i < TN * KQ; i += WG) {
      let n = n0 + i / KQ;
      var w = vec4<f32>(0.0);
      if (n < uniforms.n) {
        w = weightQuadG(g, n, k0 + (i % KQ) * 4, uniforms.k);
      }
      wTile[i] = TileT(w);
    }
    workgroupBarrier();
    for (var kk = 0; kk < KQ; kk++) {
      var xs: array<TileT, 4>;
      for (var r = 0; r < 4; r++) {
        xs[r] = xTile[(ty + r * 8) * KQ + kk];
      }
      for (var c = 0; c < 4; c++) {
        let w = wTile[(tx + c * 8) * KQ + kk];
        for (var r = 0; r < 4; r++) {
          acc[r * 4 + c] += f32(dot(xs[r], w));
        }
      }
    }
    workgroupBarrier();
  }

  for (var c = 0; c < 4; c++) {
    let n = n0 + tx + c * 8;
    if (n < uniforms.n) {
      let scale = weightScaleG(g, n);
      let b = biasG(g, n);
      for (var r = 0; r < 4; r++) {
        let m = m0 + ty + r * 8;
        if (m < mEnd) {
          result[m * uniforms.n + n] = activate(acc[r * 4 + c] * scale + b);
        }
      }
    }
  }
}
