/**
 * The bottom-up-attention Faster R-CNN (HF's LXMERT demo `GeneralizedRCNN`, checkpoint
 * unc-nlp/frcnn-vg-finetuned) on tf.js: image → the 36 regions LXMERT reads. Stage functions
 * are exported for stage tests and per-stage timings.
 */
export { parseFrcnnConfig, frcnnFullConfig, frcnnWidths, RESNET_BLOCKS } from './config.js';
export type { FrcnnConfig, FrcnnWidths } from './config.js';
export {
  frcnnInventory,
  randomFrcnnWeights,
  checkFrcnnWeights,
  CELL_ANCHORS,
} from './inventory.js';
export {
  preprocess,
  preprocessValues,
  resizeShortestEdgeSize,
  checkRgbaImage,
} from './preprocess.js';
export type { RgbaImage, PreprocessedImage } from './preprocess.js';
export {
  backbone,
  basicStem,
  bottleneckBlock,
  ceilPoolLength,
  loadResNet,
  disposeResNet,
} from './backbone.js';
export type { ResNetParams, BottleneckBlockParams, BasicStemParams } from './backbone.js';
export { BN_EPS } from './layers.js';
export { applyDeltas, clipBoxes, nms, topkIndices, SCALE_CLAMP } from './boxes.js';
export {
  rpn,
  rpnHead,
  rpnAnchors,
  cellAnchors,
  selectProposals,
  loadRpnHead,
  disposeRpnHead,
  FEATURE_STRIDE,
} from './rpn.js';
export type { RpnHeadParams, RpnProposals } from './rpn.js';
export {
  roiPoolRes4,
  res5Features,
  boxFeatures,
  boxPredictor,
  loadRoiHeads,
  disposeRoiHeads,
  regionChunkRows,
  evenChunkRows,
  REGION_CHUNK_BYTES,
} from './roi_heads.js';
export type { RoiHeadsParams, BoxPredictorParams, PredictorOutputs } from './roi_heads.js';
export { proposalPredictions, selectDetections, finalDetections } from './outputs.js';
export type { ProposalPredictions, DetectionSelection, FinalDetections } from './outputs.js';
export { GeneralizedRCNN, FRCNN_STEPS, DETECT_SUBMIT_BATCH } from './generalized_rcnn.js';
export type {
  FrcnnDetectOptions,
  FrcnnDetections,
  FrcnnStage,
  FrcnnStep,
} from './generalized_rcnn.js';
export { meterSteps, formatStepReport } from './step_meter.js';
export type { StepCounts, StepMeter, StepReport } from './step_meter.js';
