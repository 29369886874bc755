/**
 * ResNet C4 backbone (HF modeling_frcnn.py: BasicStem, BottleneckBlock, ResNet): stem, res2,
 * res3, res4 → `res4` at stride 16; and the bottleneck stage res5 that the ROI heads run on the
 * pooled regions. All tensors NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FrcnnConfig } from './config.js';
import { bottleneckSpecs } from './inventory.js';
import { conv2d, disposeConv, loadConvBn, type Conv2dParams, type Weights } from './layers.js';

export interface BottleneckBlockParams {
  conv1: Conv2dParams;
  conv2: Conv2dParams;
  conv3: Conv2dParams;
  shortcut: Conv2dParams | null;
}

export interface BasicStemParams {
  conv1: Conv2dParams;
  maxPool: boolean;
}

export interface ResNetParams {
  stem: BasicStemParams;
  /** res2, res3, res4. */
  stages: BottleneckBlockParams[][];
}

/**
 * One bottleneck's params. `stride` sits in conv1 (stride_in_1x1) or conv2, and in the shortcut;
 * `dilation` applies to conv2 (padding = dilation).
 */
function loadBlock(
  weights: Weights,
  prefix: string,
  shortcut: boolean,
  stride: number,
  dilation: number,
  strideInOneByOne: boolean,
): BottleneckBlockParams {
  const [s1, s3] = strideInOneByOne ? [stride, 1] : [1, stride];
  return {
    conv1: loadConvBn(weights, `${prefix}.conv1`, { stride: s1 }),
    conv2: loadConvBn(weights, `${prefix}.conv2`, { stride: s3, padding: dilation, dilation }),
    conv3: loadConvBn(weights, `${prefix}.conv3`),
    shortcut: shortcut ? loadConvBn(weights, `${prefix}.shortcut`, { stride }) : null,
  };
}

/** res2..res5 block params; `stage` 0..3. res5 follows `roi_box_head.res5halve`. */
export function loadStage(config: FrcnnConfig, weights: Weights, stage: number) {
  const name = stage < 3 ? `backbone.res${stage + 2}.` : 'roi_heads.res5.';
  const halve = config.roiBoxHead.res5halve;
  const stride = stage === 0 ? 1 : stage < 3 ? 2 : halve ? 2 : 1;
  const dilation = stage === 3 && !halve ? 2 : 1;
  return bottleneckSpecs(config)
    .filter((b) => b.prefix.startsWith(name))
    .map((b, i) =>
      loadBlock(
        weights,
        b.prefix,
        b.shortcut,
        i === 0 ? stride : 1,
        dilation,
        config.resnets.strideInOneByOne,
      ),
    );
}

export function loadResNet(config: FrcnnConfig, weights: Weights): ResNetParams {
  return {
    stem: {
      conv1: loadConvBn(weights, 'backbone.stem.conv1', { stride: 2, padding: 3 }),
      maxPool: config.maxPool,
    },
    stages: [0, 1, 2].map((s) => loadStage(config, weights, s)),
  };
}

export function disposeBlocks(blocks: BottleneckBlockParams[]): void {
  for (const b of blocks) {
    for (const c of [b.conv1, b.conv2, b.conv3, b.shortcut]) if (c) disposeConv(c);
  }
}

export function disposeResNet(p: ResNetParams): void {
  disposeConv(p.stem.conv1);
  for (const s of p.stages) disposeBlocks(s);
}

/** relu(conv3(relu(conv2(relu(conv1(x))))) + shortcut(x)). */
export function bottleneckBlock(x: tf.Tensor4D, p: BottleneckBlockParams): tf.Tensor4D {
  return tf.tidy(() => {
    const h = conv2d(conv2d(conv2d(x, p.conv1, true), p.conv2, true), p.conv3, false);
    const identity = p.shortcut ? conv2d(x, p.shortcut, false) : x;
    return tf.relu(tf.add(h, identity));
  });
}

/** Output length of a 3×3 stride-2 max pool with ceil_mode=True and no padding. */
export function ceilPoolLength(n: number): number {
  let out = Math.ceil((n - 3) / 2) + 1;
  if ((out - 1) * 2 >= n) out -= 1;
  return out;
}

/**
 * conv 7×7/2 pad 3 → BN → ReLU → max-pool 3×3/2 with ceil_mode=True (Caffe's pooling): the
 * last partial windows take the max of what exists. They are padded at the bottom/right with
 * zeros, which cannot win over a window's real values because the input is post-ReLU (≥ 0).
 */
export function basicStem(x: tf.Tensor4D, p: BasicStemParams): tf.Tensor4D {
  return tf.tidy(() => {
    const y = conv2d(x, p.conv1, true);
    if (!p.maxPool) return y;
    const [, h, w] = y.shape;
    const padH = (ceilPoolLength(h) - 1) * 2 + 3 - h;
    const padW = (ceilPoolLength(w) - 1) * 2 + 3 - w;
    const padded =
      padH > 0 || padW > 0
        ? tf.pad(y, [
            [0, 0],
            [0, Math.max(padH, 0)],
            [0, Math.max(padW, 0)],
            [0, 0],
          ])
        : y;
    return tf.maxPool(padded, 3, 2, 'valid');
  });
}

export function runBlocks(x: tf.Tensor4D, blocks: BottleneckBlockParams[]): tf.Tensor4D {
  let h = x;
  for (const b of blocks) {
    const next = bottleneckBlock(h, b);
    if (h !== x) h.dispose();
    h = next;
  }
  return h;
}

/** The preprocessed image [1, H, W, 3] → res4 [1, ⌈H/16⌉-ish, …, C4] (NHWC). */
export function backbone(input: tf.Tensor4D, p: ResNetParams): tf.Tensor4D {
  return tf.tidy(() => {
    let h = basicStem(input, p.stem);
    for (const stage of p.stages) h = runBlocks(h, stage);
    return h;
  });
}
