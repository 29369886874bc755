/**
 * `TFLxmertModel` and `TFLxmertForPreTraining`: Hugging Face's TensorFlow classes, which hold
 * the same weights (under TF variable names, see weights/h5_names.ts) and compute the same
 * outputs as the PyTorch ones. Here they are those models under their TF names: `buildModel`
 * makes one when config.json's `architectures` names it, as a TF checkpoint's does.
 * Original source: transformers/models/lxmert/modeling_tf_lxmert.py.
 */
import type { LxmertConfig } from '../config.js';
import { LxmertForPreTraining } from './for_pretraining.js';
import { LxmertModel } from './lxmert_model.js';
import { TF_ARCHITECTURES } from './weight_names.js';

export { TF_ARCHITECTURES };

export type TfLxmertArchitecture = keyof typeof TF_ARCHITECTURES;

/** `TFLxmertModel`: `LxmertModel` under its TF name. */
export class TFLxmertModel extends LxmertModel {
  static override readonly className: string = 'TFLxmertModel';
}

/** `TFLxmertForPreTraining`: `LxmertForPreTraining` under its TF name. */
export class TFLxmertForPreTraining extends LxmertForPreTraining {
  static override readonly className: string = 'TFLxmertForPreTraining';
}

/** The TF class config.json's `architectures` names first, if any. */
export function tfArchitectureOf(
  cfg: Pick<LxmertConfig, 'architectures'>,
): TfLxmertArchitecture | undefined {
  return cfg.architectures.find((a): a is TfLxmertArchitecture =>
    Object.prototype.hasOwnProperty.call(TF_ARCHITECTURES, a),
  );
}
