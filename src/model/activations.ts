/** HF `hidden_act` names → the activations the fused dense op implements. */
import type { HiddenAct } from '../config.js';
import type { Activation } from '../../kernels/types.js';

export function activationOf(act: HiddenAct): Activation {
  switch (act) {
    case 'gelu':
    case 'gelu_python':
      return 'gelu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 'gelu_new';
    case 'swish':
    case 'silu':
      return 'silu';
    default:
      return act;
  }
}
