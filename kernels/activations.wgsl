// HF ACT2FN activations for fused epilogues; ACT is prepended by the program (a compile-time
// constant, so the unused branches fold away). erf uses Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7),
// the same approximation as tf.erf, so `gelu` is the exact-erf GELU to float32 accuracy.

const ACT_LINEAR = 0;
const ACT_GELU = 1;
const ACT_GELU_NEW = 2;
const ACT_GELU_FAST = 3;
const ACT_QUICK_GELU = 4;
const ACT_RELU = 5;
const ACT_SILU = 6;
const ACT_TANH = 7;
const ACT_SIGMOID = 8;

fn erfApprox(v: f32) -> f32 {
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 +
    t * 1.061405429))));
  return s * (1.0 - poly * exp(-a * a));
}

// tanh that stays finite for large |v| (some drivers return NaN past ~±44).
fn tanhSafe(v: f32) -> f32 {
  return tanh(clamp(v, -15.0, 15.0));
}

fn sigmoidSafe(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(v, -80.0, 80.0)));
}

fn activate(v: f32) -> f32 {
  if (ACT == ACT_GELU) {
    return 0.5 * v * (1.0 + erfApprox(v * 0.7071067811865476));
  } else if (ACT == ACT_GELU_NEW) {
    return 0.5 * v * (1.0 + tanhSafe(0.7978845608028654 * (v + 0.044715 * v * v * v)));
  } else if (ACT == ACT_GELU_FAST) {
    return 0.5 * v * (1.0 + tanhSafe(v * 0.7978845608 * (1.0 + 0.044715 * v * v)));
  } else if (ACT == ACT_QUICK_GELU) {
    return v * sigmoidSafe(1.702 * v);
  } else if (ACT == ACT_RELU) {
    return max(v, 0.0);
  } else if (ACT == ACT_SILU) {
    return v * sigmoidSafe(v);
  } else if (ACT == ACT_TANH) {
    return tanhSafe(v);
  } else if (ACT == ACT_SIGMOID) {
    return sigmoidSafe(v);
  }
  return v;
}
