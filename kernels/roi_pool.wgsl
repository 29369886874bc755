// torchvision RoIPool (quantized max pooling, not RoIAlign) over an NHWC feature map of batch 1:
//   out[r, ph, pw, c] = max of x[h, w, c] over the bin's cells, 0 for an empty bin.
// Box corners scale by spatialScale and round half away from zero; a box spans
// rh = max(ye − ys + 1, 1) cells; bin ph covers [floor(ph · rh/P), ceil((ph+1) · rh/P)) + ys,
// clamped to the map. rh/P is float32 (torchvision's `T`) and must be the correctly rounded
// quotient: WGSL's f32 division may be off by 2.5 ulp, so it is computed with integers below.
// One invocation per output element; the channel is fastest, so a workgroup reads contiguous C.

// C's round(): half away from zero (WGSL round() is half to even).
fn roundHalfAway(v: f32) -> i32 {
  let a = abs(v);
  let f = floor(a);
  let r = select(f, f + 1.0, a - f >= 0.5);
  return i32(select(r, -r, v < 0.0));
}

// f32(n) / f32(d), correctly rounded (ties to even), for 1 ≤ n < 2^23 · d and 1 ≤ d < 256.
fn quotientF32(n: i32, d: i32) -> f32 {
  let den = u32(d);
  var num = u32(n);
  var shift = 0;
  // Scale the numerator until the integer quotient has 24 significant bits.
  loop {
    if (num >= den * 8388608u) {
      break;
    }
    num = num << 1u;
    shift = shift + 1;
  }
  var q = num / den;
  let twiceRem = 2u * (num % den);
  if (twiceRem > den || (twiceRem == den && (q & 1u) == 1u)) {
    q = q + 1u;
  }
  return ldexp(f32(q), -shift);
}

fn main(flat: i32) {
  // flat = the global invocation index (the program's dispatch layout is flat)
  let C = uniforms.channels;
  let P = uniforms.pooledHeight;
  let Q = uniforms.pooledWidth;
  if (flat >= uniforms.numRois * P * Q * C) {
    return;
  }
  let c = flat % C;
  let pw = (flat / C) % Q;
  let ph = (flat / (C * Q)) % P;
  let r = flat / (C * Q * P);

  let xs = roundHalfAway(boxes[r * 4] * uniforms.spatialScale);
  let ys = roundHalfAway(boxes[r * 4 + 1] * uniforms.spatialScale);
  let xe = roundHalfAway(boxes[r * 4 + 2] * uniforms.spatialScale);
  let ye = roundHalfAway(boxes[r * 4 + 3] * uniforms.spatialScale);
  let rw = max(xe - xs + 1, 1);
  let rh = max(ye - ys + 1, 1);
  let binH = quotientF32(rh, P);
  let binW = quotientF32(rw, Q);

  let H = uniforms.height;
  let W = uniforms.width;
  let hs = clamp(i32(floor(f32(ph) * binH)) + ys, 0, H);
  let he = clamp(i32(ceil(f32(ph + 1) * binH)) + ys, 0, H);
  let ws = clamp(i32(floor(f32(pw) * binW)) + xs, 0, W);
  let we = clamp(i32(ceil(f32(pw + 1) * binW)) + xs, 0, W);

  var best = 0.0;
  if (he > hs && we > ws) {
    best = -3.4028234e+38;
    for (var h = hs; h < he; h++) {
      for (var w = ws; w < we; w++) {
        best = max(best, x[(h * W + w) * C + c]);
      }
    }
  }
  setOutputAtIndex(flat, best);
}
