/**
 * Hugging Face's TF → PyTorch weight-name rule (`convert_tf_weight_name_to_pt_weight_name` in
 * transformers/modeling_tf_pytorch_utils.py), for the variables of a Keras `tf_model.h5`.
 * Browser-safe.
 *
 * `tf_lxmert_for_pre_training/lxmert/encoder/layer_._0/attention/self/query/kernel:0`
 * → `lxmert.encoder.layer.0.attention.self.query.weight`, transposed (Keras Dense kernels are
 * [in, out], torch Linear weights [out, in]).
 */

export interface PtName {
  /** The PyTorch state_dict name. */
  name: string;
  /** Whether the tensor is a Keras kernel, stored transposed relative to PyTorch. */
  transpose: boolean;
}

/**
 * Map a TF variable name to its PyTorch name. The first level (the Keras model's name,
 * `tf_lxmert_model` …) is dropped unless the name has only one level; `:0` is dropped; `_._`
 * separates a list index (`layer_._0` → `layer.0`); `a___b` levels become `b`; the last part
 * `kernel`, `embeddings`, `gamma` becomes `weight` and `beta` becomes `bias`.
 */
export function tfToPtName(tfName: string): PtName {
  let s = tfName.replace(/:0$/, '');
  s = s.replace(/\/[^/]*___([^/]*)\//g, '/$1/');
  s = s.replace(/_\._/g, '/');
  s = s.replace(/\/\/+/g, '/');
  let parts = s.split('/');
  if (parts.length > 1) parts = parts.slice(1);
  const last = parts[parts.length - 1];
  const transpose = last === 'kernel' || last === 'pointwise_kernel' || last === 'depthwise_kernel';
  if (last === 'kernel' || last === 'embeddings' || last === 'gamma')
    parts[parts.length - 1] = 'weight';
  else if (last === 'beta') parts[parts.length - 1] = 'bias';
  return { name: parts.join('.'), transpose };
}
