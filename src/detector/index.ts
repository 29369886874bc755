/**
 * The bottom-up-attention Faster R-CNN (HF's LXMERT demo `GeneralizedRCNN`, checkpoint
 * unc-nlp/frcnn-vg-finetuned) on tf.js: image → the 36 regions LXMERT reads.
 */
export { parseFrcnnConfig, frcnnFullConfig, frcnnWidths, RESNET_BLOCKS } from './config.js';
export type { FrcnnConfig, FrcnnWidths } from './config.js';
export { frcnnInventory, randomFrcnnWeights, checkFrcnnWeights } from './inventory.js';
export { preprocess, resizeShortestEdgeSize, checkRgbaImage } from './preprocess.js';
export type { RgbaImage, PreprocessedImage } from './preprocess.js';
export { backbone, basicStem, bottleneckBlock, loadResNet, disposeResNet } from './backbone.js';
export type { ResNetParams, BottleneckBlockParams, BasicStemParams } from './backbone.js';
