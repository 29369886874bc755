// Fused multi-head attention, one workgroup per (query tile, head, batch):
//   context[b, i, h·D + d] = Σ_j softmax_j(q_i·k_j·scale + mask[b, j]) · v[j, d]
// with an online (running max / running sum) softmax over key tiles, so the [B, heads, Lq, Lk]
// score tensor never reaches global memory. q, k and v are read in place through accessors
// (a fused QKV projection is read at column offsets), heads indexed directly. Workgroup z is
// (group, batch): a grouped call runs two attentions of the same head size in one dispatch (the
// two directions of cross-attention, or two streams' self-attention over stacked rows).
//
// Prepended by AttentionProgram (attention_webgpu.ts):
//   const HEAD_DIM, TQ (query rows per workgroup), TK (keys per tile), TPR (threads per query
//   row), DPT (head dims per thread), WG (= TQ·TPR): i32; the accessors of attention_webgpu.ts
//   (fn groupOf, batchOf, queryCount, keyCount, keyLoopEnd (uniform), qAt, kAt, vAt, outIndex,
//   maskAt).

const NEG_MAX = -3.4028234e+38;

var<workgroup> qTile: array<f32, TQ * HEAD_DIM>;
var<workgroup> kTile: array<f32, TK * HEAD_DIM>;
var<workgroup> vTile: array<f32, TK * HEAD_DIM>;
var<workgroup> sTile: array<f32, TQ * TK>;

fn main() {
  let g = groupOf(i32(workgroupId.z));
  let b = batchOf(i32(workgroupId.z));
  let h = i32(workgroupId.y);
  let q0 = i32(workgroupId.x) * TQ;
  let tid = i32(localIndex);
  let row = tid / TPR;
  let lane = tid % TPR;
  let lq = queryCount(g);
  let lk = keyCount(g);
  let hOff = h * HEAD_DIM;

  // Query tile, pre-scaled by 1/sqrt(D).
  for (var i = tid; i < TQ * HEAD_DIM; i += WG) {
    let qi = q0 + i / HEAD_DIM;
    var val = 0.0;
    if (qi < lq) {
      val = qAt(g, b, qi, hOff + i % HEAD_DIM) * uniforms.scale;
    }
    qTile[i] = val;
  }

  var m = NEG_MAX; // running max of this thread's query row
  var l = 0.0; // running Σ exp(s - m)
  var acc: array<f32, DPT>;
  // The loop bound is uniform (barriers inside); a group with fewer keys sees nk = 0 at the end.
  for (var k0 = 0; k0 < keyLoopEnd(); k0 += TK) {
    let nk = clamp(lk - k0, 0, TK);
    workgroupBarrier();
    for (var i = tid; i < TK * HEAD_DIM; i += WG) {
      let j = i / HEAD_DIM;
      var kv = 0.0;
      var vv = 0.0;
      if (j < nk) {
        let d = hOff + i % HEAD_DIM;
        kv = kAt(g, b, k0 + j, d);
        vv = vAt(g, b, k0 + j, d);
      }
      kTile[i] = kv;
      vTile[i] = vv;
    }
    workgroupBarrier();
    for (var i = tid; i < TQ * TK; i += WG) {
      let r = i / TK;
      let j = i % TK;
      var s = 0.0;
      for (var d = 0; d < HEAD_DIM; d++) {
        s += qTile[r * HEAD_DIM + d] * kTile[j * HEAD_DIM + d];
      }
      if (j < nk) {
        s += maskAt(g, b, k0 + j);
      }
      sTile[i] = s;
    }
    workgroupBarrier();
    var tmax = m;
    for (var j = 0; j < nk; j++) {
      tmax = max(tmax, sTile[row * TK + j]);
    }
    let corr = exp(m - tmax);
    l *= corr;
    for (var e = 0; e < DPT; e++) {
      acc[e] *= corr;
    }
    for (var j = 0; j < nk; j++) {
      let p = exp(sTile[row * TK + j] - tmax);
      l += p;
      for (var e = 0; e < DPT; e++) {
        let d = lane + e * TPR;
        if (d < HEAD_DIM) {
          acc[e] += p * vTile[j * HEAD_DIM + d];
        }
      }
    }
    m = tmax;
  }

  let qi = q0 + row;
  if (qi < lq) {
    let outBase = outIndex(g, b, qi) + hOff;
    for (var e = 0; e < DPT; e++) {
      let d = lane + e * TPR;
      if (d < HEAD_DIM) {
        result[outBase + d] = acc[e] / l;
      }
    }
  }
}
