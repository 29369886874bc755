/**
 * A checkpoint opened for streaming: tensor descriptions up front, bytes read one tensor at a
 * time on demand. Implemented for safetensors, PyTorch zip and legacy files and TF `tf_model.h5`
 * (Node readers).
 */
import type { StDtype } from '../codec/raw_tensor.js';

export type WeightsFormat = 'safetensors' | 'pytorch-zip' | 'pytorch-legacy' | 'tf-h5';

export interface TensorEntry {
  name: string;
  dtype: StDtype;
  shape: number[];
  /**
   * Identifies the bytes: file, storage and element offset. Two names with the same id and
   * shape are the same tensor (tied weights saved once by torch.save).
   */
  storageId: string;
  /** The tensor's bytes, contiguous, little-endian, `numel × dtype size` long. */
  read(): Promise<Uint8Array>;
}

export interface WeightsFile {
  path: string;
  format: WeightsFormat;
  entries: Map<string, TensorEntry>;
  close(): Promise<void>;
}
