/** The web-app API: LxmertVqa, its cache helpers and types. Browser-safe. */
export { LxmertVqa } from './lxmert_vqa.js';
export { VqaEngine } from './engine.js';
export type { LoadedWeights, SelfLoadingFiles } from './engine.js';
export {
  listCached,
  deleteCached,
  cacheUsage,
  openCacheStore,
  requestPersistence,
  CACHE_NAME,
} from './cache.js';
export type { CachedModel, CacheUsage } from './cache.js';
export { ProgressAccount } from './progress.js';
export type {
  AnswerOptions,
  AnswerResult,
  DetectedRegions,
  ImageInput,
  LoadInfo,
  LoadPhases,
  LoadProgressEvent,
  LxmertVqaLoadOptions,
  ModelFiles,
  ModelSource,
  RegionInput,
  RgbaImage,
  VqaInput,
} from './types.js';
