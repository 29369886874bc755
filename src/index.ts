/**
 * lxmert-web: LXMERT for the web. Browser-safe public API (no node: imports); Node-only
 * helpers (checkpoint folders, converter, Hub client) are in `lxmert-web/node`.
 */
export * from './errors.js';
export { defaultLimits, limits, resetLimits, setLimits, type Limits } from './limits.js';
export {
  configFromHf,
  configToHf,
  validateConfig,
  headDim,
  DEFAULT_CONFIG,
  SUPPORTED_ACTIVATIONS,
} from './config.js';
export type { LxmertConfig, HiddenAct } from './config.js';
export * from './model/index.js';
export { warmUp } from './model/warm_up.js';
export type { WarmUpModel, WarmUpOptions, CompileAheadReport } from './model/warm_up.js';
export {
  selectBackend,
  withDeviceRecovery,
  currentGpuDevice,
  deviceRecovered,
  releaseWebGPU,
} from './backend.js';
export type {
  BackendPreference,
  BackendName,
  BackendSelection,
  SelectBackendOptions,
  AdapterSummary,
} from './backend.js';
export { setFusedKernels, fusedKernelsEnabled } from '../kernels/ops.js';
export { trackDispatches, gpuMemory } from '../kernels/runtime/dispatch_counter.js';
export type { DispatchCounter, DispatchStats } from '../kernels/runtime/dispatch_counter.js';
export * from './tokenizer/index.js';
export { loadConverted, fetchReader } from './weights/loader.js';
export type { ShardStore, FetchReaderOptions } from './weights/loader.js';
export { gpuWeightFormat } from './weights/manifest.js';
export type { ConvertedModel, LoadOptions, FileReader } from './weights/loader.js';
export type { ProgressEvent, ProgressCallback } from './weights/progress.js';
export {
  readSafetensors,
  writeSafetensors,
  parseSafetensorsHeader,
} from './weights/safetensors.js';
export type { RawTensor, StDtype } from './codec/raw_tensor.js';
export { toFloat32, toInt32 } from './codec/raw_tensor.js';
export {
  VqaPipeline,
  DEFAULT_MAX_LENGTH,
  DEFAULT_TOP_K,
  DEFAULT_REGION_CACHE_SIZE,
} from './pipeline/vqa.js';
export { detectionsToVisualInput } from './pipeline/regions.js';
export { formatObj36Line } from './features/obj36_writer.js';
export { GeneralizedRCNN, parseFrcnnConfig, frcnnFullConfig } from './detector/index.js';
export type { FrcnnConfig, FrcnnDetections } from './detector/index.js';
export { loadConvertedDetector } from './weights/detector_loader.js';
export type { ConvertedDetector } from './weights/detector_loader.js';
export type {
  VqaModel,
  VqaPipelineParts,
  VqaOptions,
  VqaAnswer,
  VqaResult,
  VqaScores,
  VqaBatch,
  CrossAttention,
  VqaImage,
  RegionDetector,
} from './pipeline/vqa.js';
export {
  parseObj36Line,
  parseObj36Tsv,
  indexObj36Tsv,
  normalizeBoxes,
  obj36VisualInput,
  validateFeatures,
  OBJ36_FIELDS,
} from './features/obj36.js';
export type {
  Obj36Image,
  Obj36LineRef,
  ParseObj36Options,
  VisualInput,
  ValidateFeaturesOptions,
} from './features/obj36.js';
export * from './app/index.js';
export {
  imageToRgba,
  decodeImage,
  validateRgbaImage,
  readImageHeader,
  checkImageSize,
  DEFAULT_MAX_PIXELS,
} from './features/image.js';
export type {
  ImageInput,
  RgbaImage,
  DecodeImageOptions,
  ImageHeader,
  ImageFormat,
} from './features/image.js';
