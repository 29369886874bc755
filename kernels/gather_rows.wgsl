// Rows of an embedding table by id, decoded to float32: out[i, h] = table[ids[i], h] for a
// float32 table, unpack2x16float of packed halves for float16, q · scales[id] for int8. One
// invocation per output element. Lets word/position/token-type embeddings stay 16- or 8-bit on
// the GPU (the VQA path reads 20 rows of a 30522-row table).
//
// Prepended by GatherRowsProgram (gather_rows_webgpu.ts):
//   fn tableValue(row: i32, h: i32) -> f32 (per format).

fn main(flat: i32) {
  // flat = the global invocation index (the program's dispatch layout is flat)
  if (flat >= uniforms.rows * uniforms.width) {
    return;
  }
  let i = flat / uniforms.width;
  let h = flat - i * uniforms.width;
  setOutputAtIndex(flat, tableValue(ids[i], h));
}
