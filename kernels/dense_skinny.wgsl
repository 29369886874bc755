// Dense for few rows (M ≤ 64: a VQA query's 20 tokens or 36 boxes), where dense.wgsl's 32 × 32
// output tiles leave most of a big GPU idle. A workgroup owns TN output columns for every row;
// its KS thread slices split K (interleaved vec4s, so a slice of threads reads a weight row
// contiguously), and the slices' partial sums meet in workgroup memory. Rows go MB at a time.
//
// Prepended by DenseProgram (dense_webgpu.ts): const TN, KS, MB, WG (= TN · KS): i32; alias
// TileT; fn weightQuad, fn weightScale (the weight decoder, weights_*.wgsl); fn loadInputQuad
// (dense_input*.wgsl); fn activate (activations.wgsl).

var<workgroup> partial: array<f32, WG * MB>;

fn main() {
  let tid = i32(localIndex);
  let col = tid % TN;
  let slice = tid / TN;
  let n = i32(workgroupId.x) * TN + col;
  let quads = (uniforms.k + 3) / 4;

  for (var m0 = 0; m0 < uniforms.m; m0 += MB) {
    var acc: array<f32, MB>;
    for (var r = 0; r < MB; r++) {
      acc[r] = 0.0; // explicit: some compilers hoist the declaration out of the loop
    }
    if (n < uniforms.n) {
      for (var q = slice; q < quads; q += KS) {
        let w = TileT(weightQuad(n, q * 4, uniforms.k));
        for (var r = 0; r < MB; r++) {
          acc[r] += f32(dot(TileT(loadInputQuad(m0 + r, q * 4)), w));
        }
      }
    }
    for (var r = 0; r < MB; r++) {
      partial[(slice * TN + col) * MB + r] = acc[r];
    }
    workgroupBarrier();
    if (slice == 0 && n < uniforms.n) {
      let scale = weightScale(n);
      let b = bias[n];
      for (var r = 0; r < MB; r++) {
        let m = m0 + r;
        if (m < uniforms.m) {
          var s = 0.0;
          for (var i = 0; i < KS; i++) {
            s += partial[(i * TN + col) * MB + r];
          }
          result[m * uniforms.n + n] = activate(s * scale + b);
        }
      }
    }
    workgroupBarrier();
  }
}
