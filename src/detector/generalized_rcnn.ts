/**
 * GeneralizedRCNN (HF modeling_frcnn.py, the LXMERT demo's detector): image → preprocess →
 * ResNet C4 backbone → RPN → Res5ROIHeads → ROIOutputs, for one image at a time. The backbone
 * and res5 run on the device without read-back; the RPN's top-k/NMS and the final selection run
 * on the host on small read-back tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, WeightsError } from '../errors.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { backbone, disposeResNet, loadResNet, type ResNetParams } from './backbone.js';
import { frcnnWidths, type FrcnnConfig } from './config.js';
import { CELL_ANCHORS, checkFrcnnWeights } from './inventory.js';
import { floats } from './layers.js';
import {
  finalDetections,
  proposalPredictions,
  selectDetections,
  type FinalDetections,
} from './outputs.js';
import { preprocess, type RgbaImage } from './preprocess.js';
import {
  boxFeatures,
  boxPredictor,
  disposeRoiHeads,
  loadRoiHeads,
  type RoiHeadsParams,
} from './roi_heads.js';
import { cellAnchors, disposeRpnHead, loadRpnHead, rpn, type RpnHeadParams } from './rpn.js';

/** The stages detect() reports through `onStage`. */
export type FrcnnStage = 'preprocess' | 'backbone' | 'rpn' | 'roiHeads' | 'outputs';

/**
 * The finer steps detect() announces through `onStep`, in HF's module order: RoIPool and res5
 * alternate once per region chunk; `heads` is the box predictor with its softmax/argmax and
 * read-back, `nms` the final selection and the roi_features read-back.
 */
export type FrcnnStep = 'preprocess' | 'backbone' | 'rpn' | 'roiPool' | 'res5' | 'heads' | 'nms';

/** Every FrcnnStep, in order. */
export const FRCNN_STEPS: readonly FrcnnStep[] = [
  'preprocess',
  'backbone',
  'rpn',
  'roiPool',
  'res5',
  'heads',
  'nms',
];

export interface FrcnnDetectOptions {
  signal?: AbortSignal;
  /** Detections returned (and padded to); default the config's max_detections (36). */
  maxDetections?: number;
  /**
   * Called after each stage with its wall time in ms (each stage ends at a read-back; with this
   * option the backbone ends at a 4-byte one, so that its time is its own).
   */
  onStage?: (stage: FrcnnStage, ms: number) => void;
  /**
   * Called as each step begins, before it issues any work (per-step dispatch, read-back and
   * memory counters: everything issued until the next call belongs to this step). Adds no
   * read-back.
   */
  onStep?: (step: FrcnnStep) => void;
  /**
   * webgpu only: tf.js's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE while this detect runs (restored
   * after). tf.js keeps the buffer of a tensor disposed before its commands are submitted until
   * the next submit, which by default comes every 15 dispatches: at 800×1067 that holds about
   * three bottlenecks' activations at once and fills the buffer pool with sizes that are never
   * reused. Default 1 (submit after every dispatch): modelled peak GPU memory at full size 1.2 GB
   * instead of 2.6 GB (BENCHMARKS.md, "Peak GPU memory"). The flag is global: other tf.js work
   * that runs while this detect awaits sees it too.
   */
  submitBatch?: number;
}

/** The submitBatch detect() uses by default (see FrcnnDetectOptions). */
export const DETECT_SUBMIT_BATCH = 1;
const SUBMIT_FLAG = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';

export interface FrcnnDetections extends FinalDetections {
  /** Resized (H, W). */
  imageSize: [number, number];
  /** Raw (H, W). */
  rawSize: [number, number];
  /** raw / resized (y, x), float32. */
  scalesYx: [number, number];
  /** [slots · C5]: LXMERT's visual_feats. */
  roiFeatures: Float32Array;
  /** C5. */
  featureDim: number;
  /** Detections that survived (≤ slots); the rest are zero padding. */
  numDetections: number;
  /** [P · 4] RPN proposals in resized-image pixels (P ≤ post_nms_topk, 300) and [P] logits. */
  proposals: Float32Array;
  proposalLogits: Float32Array;
  /** The nms_thresh_test value that was used. */
  nmsThreshold: number;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error
      ? signal.reason
      : new DOMException('detection aborted', 'AbortError');
  }
}

export class GeneralizedRCNN {
  private disposed = false;

  private constructor(
    readonly config: FrcnnConfig,
    private readonly backboneParams: ResNetParams,
    private readonly rpnParams: RpnHeadParams,
    private readonly roiParams: RoiHeadsParams,
  ) {}

  /**
   * Check `weights` (HF state_dict names) against the config's inventory and upload them, with
   * every BatchNorm folded into its convolution (layers.ts). Float16/bfloat16 tensors are widened
   * to float32. The checkpoint's cell anchors, when present, must equal the config's.
   */
  static build(
    config: FrcnnConfig,
    weights: ReadonlyMap<string, RawTensor>,
    options: { source?: string } = {},
  ): GeneralizedRCNN {
    const source = options.source ?? 'detector weights';
    checkFrcnnWeights(config, weights, source);
    const stored = weights.get(CELL_ANCHORS);
    if (stored) {
      const expected = cellAnchors(config);
      const got = floats(weights, CELL_ANCHORS);
      // Relative: a float16 checkpoint stores them to 3 significant digits.
      const worst = got.reduce(
        (m, v, i) => Math.max(m, Math.abs(v - expected[i]) / Math.max(1, Math.abs(expected[i]))),
        0,
      );
      if (!(worst <= 1e-3)) {
        throw new WeightsError(
          `cell anchors differ from anchor_generator's sizes/aspect_ratios (relative ${worst})`,
          `${source}: ${CELL_ANCHORS}`,
        );
      }
    }
    // Inside tidy: the returned params survive, anything made before a failure is freed.
    const parts = tf.tidy(
      () =>
        ({
          backbone: loadResNet(config, weights),
          rpn: loadRpnHead(weights),
          roi: loadRoiHeads(config, weights),
        }) as unknown as tf.TensorContainer,
    ) as unknown as { backbone: ResNetParams; rpn: RpnHeadParams; roi: RoiHeadsParams };
    return new GeneralizedRCNN(config, parts.backbone, parts.rpn, parts.roi);
  }

  /** C5, the region feature size. */
  get featureDim(): number {
    return frcnnWidths(this.config).c5;
  }

  /** The 36 (maxDetections) regions of one image, as LXMERT reads them. */
  async detect(image: RgbaImage, options: FrcnnDetectOptions = {}): Promise<FrcnnDetections> {
    if (this.disposed) throw new InputError('detector', 'a detector not disposed', 'disposed');
    const batch = options.submitBatch ?? DETECT_SUBMIT_BATCH;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new InputError('submitBatch', 'a positive integer', String(batch));
    }
    if (tf.getBackend() !== 'webgpu') return this.run(image, options);
    const previous = tf.env().getNumber(SUBMIT_FLAG);
    tf.env().set(SUBMIT_FLAG, batch);
    try {
      return await this.run(image, options);
    } finally {
      tf.env().set(SUBMIT_FLAG, previous);
    }
  }

  private async run(image: RgbaImage, options: FrcnnDetectOptions): Promise<FrcnnDetections> {
    const { signal, onStage, onStep } = options;
    const slots = options.maxDetections ?? this.config.maxDetections;
    if (!Number.isInteger(slots) || slots < 1) {
      throw new InputError('maxDetections', 'a positive integer', String(slots));
    }
    const config = this.config;
    let t = performance.now();
    const lap = (stage: FrcnnStage) => {
      const now = performance.now();
      onStage?.(stage, now - t);
      t = now;
    };
    throwIfAborted(signal);
    onStep?.('preprocess');
    const pre = preprocess(image, config);
    lap('preprocess');
    let res4: tf.Tensor4D;
    try {
      onStep?.('backbone');
      res4 = backbone(pre.input, this.backboneParams);
    } finally {
      pre.input.dispose();
    }
    try {
      if (onStage) {
        // Timing only: wait for the backbone with a 4-byte read-back (webgpu runs async).
        const corner = tf.slice(res4, [0, 0, 0, 0], [1, 1, 1, 1]);
        await corner.data();
        corner.dispose();
        lap('backbone');
      }
      onStep?.('rpn');
      const proposals = await rpn(res4, this.rpnParams, pre.imageSize, config);
      lap('rpn');
      throwIfAborted(signal);
      const features = boxFeatures(
        res4,
        proposals.proposals,
        this.roiParams,
        config,
        undefined,
        onStep,
      );
      try {
        onStep?.('heads');
        const pred = boxPredictor(features, this.roiParams.boxPredictor);
        let perProposal;
        try {
          perProposal = await proposalPredictions(pred, config);
        } finally {
          tf.dispose([
            pred.objLogits,
            pred.bboxDeltas,
            ...(pred.attrLogits ? [pred.attrLogits] : []),
          ]);
        }
        lap('roiHeads');
        throwIfAborted(signal);
        onStep?.('nms');
        const sel = selectDetections(
          perProposal,
          proposals.proposals,
          pre.imageSize,
          config,
          slots,
        );
        const final = finalDetections(perProposal, sel, pre.imageSize, pre.scalesYx, slots);
        const c5 = features.shape[1];
        const roiFeatures = new Float32Array(slots * c5);
        if (sel.keep.length > 0) {
          const kept = tf.tidy(() => tf.gather(features, tf.tensor1d(sel.keep, 'int32')));
          try {
            roiFeatures.set((await kept.data()) as Float32Array);
          } finally {
            kept.dispose();
          }
        }
        lap('outputs');
        return {
          imageSize: pre.imageSize,
          rawSize: pre.rawSize,
          scalesYx: pre.scalesYx,
          ...final,
          roiFeatures,
          featureDim: c5,
          numDetections: sel.keep.length,
          proposals: proposals.proposals,
          proposalLogits: proposals.proposalLogits,
          nmsThreshold: sel.threshold,
        };
      } finally {
        features.dispose();
      }
    } finally {
      res4.dispose();
    }
  }

  /** Free the weights on the device. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeResNet(this.backboneParams);
    disposeRpnHead(this.rpnParams);
    disposeRoiHeads(this.roiParams);
  }
}
