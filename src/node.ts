/** lxmert-web/node: the Node-only half of the API (file system, Hub, converter). */
export { loadCheckpoint, readConfigFile } from './weights/checkpoint.js';
export type { Checkpoint, LoadCheckpointOptions } from './weights/checkpoint.js';
export { loadConvertedDir } from './weights/loader_node.js';
export { convertCheckpoint } from './weights/converter.js';
export type { ConvertOptions, ConvertResult } from './weights/converter.js';
export { downloadModel, downloadFile, isHubId, DEFAULT_ENDPOINT } from './weights/hub.js';
export type { HubOptions, HubSnapshot } from './weights/hub.js';
export { loadTokenizer, loadDefaultTokenizer, defaultVocabPath } from './tokenizer/node.js';
import { setDetectorFolderSource, setFolderSource } from './app/sources.js';
import { folderSource } from './pipeline/node.js';
import { loadDetector } from './weights/detector_node.js';

export { folderSource, loadDetector };
// LxmertVqa.load({ model: 'some/folder', detector: 'other/folder' }) works once this entry is
// imported.
setFolderSource(folderSource);
setDetectorFolderSource(loadDetector);
export { readImageFile } from './features/image_node.js';
export type { DetectorCheckpoint, LoadDetectorOptions } from './weights/detector_node.js';
