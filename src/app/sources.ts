/**
 * Folder sources: in Node, `lxmert-web/node` registers how a folder path becomes a ModelFiles
 * (src/pipeline/node.ts), so that LxmertVqa.load({ model: 'weights/x' }) works there while this
 * floor stays free of node: imports.
 */
import { InputError } from '../errors.js';
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
