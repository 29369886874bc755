/**
 * Folder sources: in Node, `lxmert-web/node` registers how a folder path becomes a ModelFiles
 * (src/pipeline/node.ts), so that LxmertVqa.load({ model: 'weights/x' }) works there while this
 * floor stays free of node: imports.
 */
import { InputError } from '../errors.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import type { FrcnnConfig } from '../detector/index.js';
import type { ProgressCallback } from '../weights/progress.js';
import type { ModelFiles } from './types.js';

let folderSource: ((dir: string) => ModelFiles) | null = null;

/** Called by the Node entry. */
export function setFolderSource(fn: (dir: string) => ModelFiles): void {
  folderSource = fn;
}

/** A string that is not an http(s)/blob/data URL, in Node: a folder. */
export function folderOrNull(model: string, node: boolean): ModelFiles | null {
  if (!node || /^(https?|blob|data):/i.test(model)) return null;
  if (!folderSource) {
    throw new InputError(
      'model',
      "a URL; to load a folder in Node import 'lxmert-web/node' first",
      JSON.stringify(model),
    );
  }
  return folderSource(model);
}

/** What the Node entry loads a detector folder with (weights/detector_node.ts loadDetector). */
export type DetectorFolderLoader = (
  dir: string,
  options: { onProgress?: ProgressCallback; signal?: AbortSignal },
) => Promise<{ config: FrcnnConfig; weights: Map<string, RawTensor>; source: string }>;

let detectorFolder: DetectorFolderLoader | null = null;

/** Called by the Node entry. */
export function setDetectorFolderSource(fn: DetectorFolderLoader): void {
  detectorFolder = fn;
}

/** In Node, a detector string that is not an http(s)/blob/data URL: its folder loader. */
export function detectorFolderOrNull(detector: string, node: boolean): DetectorFolderLoader | null {
  if (!node || /^(https?|blob|data):/i.test(detector)) return null;
  if (!detectorFolder) {
    throw new InputError(
      'detector',
      "a URL; to load a folder in Node import 'lxmert-web/node' first",
      JSON.stringify(detector),
    );
  }
  return detectorFolder;
}
