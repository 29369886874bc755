/**
 * Host copies of the tensors written from host memory (weights, inputs) on a webgpu backend, so
 * that after a device loss they can be moved onto a new backend (rehome) and the same forward
 * re-run. Values are kept by reference (tf.tensor(typedArray) does not copy them), dropped when
 * the tensor's data is released. readSync answers from them too, which lets dataSync() work in
 * Node (tf.js's webgpu readSync needs OffscreenCanvas) for host-written tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataType, KernelBackend } from '@tensorflow/tfjs-core';

interface Entry {
  values: BackendValues;
  shape: number[];
  dtype: DataType;
}

type DataId = object;

interface Patchable {
  write(values: BackendValues | null, shape: number[], dtype: DataType): DataId;
  move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
  readSync(dataId: DataId): BackendValues;
}

export class HostMirror {
  private readonly entries = new Map<DataId, Entry>();

  /** Number of tensors with a host copy. */
  get size(): number {
    return this.entries.size;
  }

  attach(backend: KernelBackend): void {
    const b = backend as unknown as Patchable;
    const write = b.write.bind(b);
    const move = b.move.bind(b);
    const disposeData = b.disposeData.bind(b);
    const readSync = b.readSync.bind(b);
    b.write = (values, shape, dtype) => {
      const dataId = write(values, shape, dtype);
      if (values != null) this.entries.set(dataId, { values, shape, dtype });
      return dataId;
    };
    b.move = (dataId, values, shape, dtype, refCount) => {
      move(dataId, values, shape, dtype, refCount);
      if (values != null) this.entries.set(dataId, { values, shape, dtype });
    };
    b.disposeData = (dataId, force) => {
      const released = disposeData(dataId, force);
      if (released) this.entries.delete(dataId);
      return released;
    };
    b.readSync = (dataId) => this.entries.get(dataId)?.values ?? readSync(dataId);
  }

  /**
   * Move every mirrored tensor that lives on `source` onto `target` (tf's engine keeps which
   * backend holds each dataId; tensors computed on the lost device cannot be recovered).
   * Returns how many were moved.
   */
  rehome(source: KernelBackend, target: KernelBackend): number {
    const info = tf.engine().state.tensorInfo;
    let moved = 0;
    for (const [dataId, e] of [...this.entries]) {
      const ti = info.get(dataId);
      if (!ti || ti.backend !== source) continue;
      const refCount = source.refCount(dataId);
      ti.backend = target;
      target.move(dataId, e.values, e.shape, e.dtype, refCount);
      moved++;
    }
    return moved;
  }
}
