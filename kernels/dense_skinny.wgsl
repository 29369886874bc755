// Dense for few rows (M ≤ 64: a VQA query's 20 tokens or 36 boxes), where dense.wgsl's 32 × 32
// output tiles leave most of a big GPU idle. A workgroup owns TN output columns for every row;
// its KS thread slices split K (interleaved vec4s, so a slice of threads reads a weight row
// contiguously), and the slices' partial sums meet in workgroup memory. Rows go MB at a time.
//
// Prepended by DenseProgram (dense_webgpu.ts): const TN, KS, MB, WG (= TN · KS): i32; alias
// TileT; the group accessors (groupIndex, rowBegin, rowEnd, rowsMax, weightQuadG, weightScaleG,
// biasG, see dense.wgsl); fn loadInputQuad (dense_input*.wgsl); fn activate (activations.wgsl).

var<workgroup> partial: array<f32, WG * MB>;

fn main() {
  let tid = i32(localIndex);
  let col = tid % TN;
  let slice = tid / TN;
  let n = i32(workgroupId.x) * TN + col;
  let quads = (uniforms.k + 3) / 4;
  let g = groupIndex();
  let first = rowBegin(g);
  let mEnd = rowEnd(g);

  // Uniform bound (barriers inside): the smaller group's surplus rows are computed, not written.
  for (var m0 = 0; m0 < rowsMax(); m0 += MB) {
    var acc: array<f32, MB>;
    for (var r = 0; r < MB; r++) {
      acc[r] = 0.0; // explicit: some compilers hoist the declaration out of the loop
    }
    if (n < uniforms.n) {
      for (var q = slice; q < quads; q += KS) {
        let w = TileT(weightQuadG(g, n, q * 4, uniforms.k));
        for (var r = 0; r < MB; r++) {
          acc[r] += f32(dot(TileT(loadInputQuad(first + m0 + r, q * 4)), w));
        }
      }
    }
    for (var r = 0; r < MB; r++) {
      partial[(slice * TN + col) * MB + r] = acc[r];
    }
    workgroupBarrier();
    if (slice == 0 && n < uniforms.n) {
      let scale = weightScaleG(g, n);
      let b = biasG(g, n);
      for (var r = 0; r < MB; r++) {
        let m = first + m0 + r;
        if (m < mEnd) {
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
