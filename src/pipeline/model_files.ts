/**
 * Where a model's files come from when not from a URL: a reader of its files (Node folders,
 * picked files, custom storage), or a source that loads itself (a Hugging Face checkpoint
 * folder). The web-app API takes these; src/pipeline/node.ts makes them from folders.
 * Browser-safe (types only).
 */
import type { LxmertConfig } from '../config.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import type { LxmertArchitecture } from '../model/weight_names.js';
import type { FileReader, LoadOptions } from '../weights/loader.js';
import type { LxmertManifest } from '../weights/manifest.js';

/** A converted model's files read through a function. */
export interface ModelFiles {
  /** Shown in messages; also the cache key of its model.json. */
  name: string;
  readFile: FileReader;
  /** sha256 in lower-case hex (default crypto.subtle). */
  sha256?: (bytes: Uint8Array) => Promise<string>;
  /** Text of one of the package's data/ files (answer lists, the BERT vocabulary). */
  readData?: (file: string) => Promise<string>;
}

/** Weights in host memory with what is needed to build and label them. */
export interface LoadedWeights {
  config: LxmertConfig;
  architecture: LxmertArchitecture;
  weights: Map<string, RawTensor>;
  labels?: string[];
  vocab?: string;
  manifest?: LxmertManifest;
  source: string;
  /** Where `labels` came from, when not from labels.json. */
  labelsFrom?: string;
}

/** A source that loads itself (Node: a Hugging Face checkpoint folder). */
export interface SelfLoadingFiles extends ModelFiles {
  load(options: Pick<LoadOptions, 'onProgress' | 'signal'>): Promise<LoadedWeights>;
}
