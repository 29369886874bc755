/**
 * Visual question answering end to end: question text → LxmertTokenizer (as in Hugging Face's
 * LXMERT demo: padding to max_length 20, truncation) → the model's answer head → top-k answer
 * strings. Several questions go through one forward. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withDeviceRecovery } from '../backend.js';
import type { LxmertConfig } from '../config.js';
import { InputError } from '../errors.js';
import type { FrcnnDetections } from '../detector/index.js';
import { imageToRgba, type ImageInput } from '../features/image.js';
import { validateFeatures, type VisualInput } from '../features/validate.js';
import type { ForwardOptions, LxmertInputs } from '../model/inputs.js';
import type { LxmertTokenizer } from '../tokenizer/tokenizer.js';
import { buildBatches, topK, type VqaBatch } from './batch.js';
import { detectionsToVisualInput, imageKey, RegionCache, type RegionDetector } from './regions.js';

export type { VqaBatch, RegionDetector };

/** One image's detections and the visual input made of them (what the region cache keeps). */
export interface ImageRegions {
  visual: VisualInput;
  detections: FrcnnDetections;
}

/** An image's regions (obj36 features), or, with a detector loaded, the image itself. */
export type VqaImage = VisualInput | ImageInput;

/** Detections kept per pipeline by default (least recently used dropped first). */
export const DEFAULT_REGION_CACHE_SIZE = 8;

/** What the pipeline needs of a model: LxmertForQuestionAnswering or LxmertForPreTraining. */
export interface VqaModel {
  readonly config: LxmertConfig;
  answerScores(inputs: LxmertInputs, opts?: ForwardOptions): tf.Tensor2D;
  /** The answer scores and the pooled token's cross attention [B, x_layers, heads, V]. */
  answerScoresWithCrossAttention?(
    inputs: LxmertInputs,
    opts?: ForwardOptions,
  ): { scores: tf.Tensor2D; crossAttention: tf.Tensor4D };
  dispose?(): unknown;
}

export interface VqaPipelineParts {
  model: VqaModel;
  tokenizer: LxmertTokenizer;
  /** Answer strings by label id (config.num_qa_labels of them), e.g. data/vqa-answers.json. */
  labels: readonly string[];
  /**
   * The bottom-up-attention detector (GeneralizedRCNN): with it, questions can be asked about
   * images (File, Blob, <img>, canvas, ImageData, PNG/JPEG bytes …), not only obj36 regions.
   * The pipeline owns it (dispose frees it).
   */
  detector?: RegionDetector;
  /**
   * Images whose regions are kept, keyed by their pixels (default 8): more questions about
   * the same image run the detector once. 0 turns the cache off.
   */
  regionCacheSize?: number;
  /** Refuse images over this many pixels (default 50 000 000), before decoding. */
  maxPixels?: number;
}

export interface VqaOptions {
  /** Answers per question, best first (default 5; at most num_qa_labels). */
  topK?: number;
  /** Tokens per question, [CLS] and [SEP] included: truncated or padded to this (default 20). */
  maxLength?: number;
  /** Also return the pooled token's cross-modality attention over the regions (heatmaps). */
  attention?: boolean;
}

/**
 * The question's pooled token (language position 0) attending to the image's regions in each
 * cross-modality layer: softmax weights, `values[(layer * heads + head) * regions + region]`.
 */
export interface CrossAttention {
  layers: number;
  heads: number;
  regions: number;
  values: Float32Array;
}

export interface VqaAnswer {
  answer: string;
  labelId: number;
  /** The answer head's logit (question_answering_score); sigmoid gives a probability. */
  score: number;
}

export interface VqaResult {
  question: string;
  /** Index of the image the question was asked about (0 when one image was given). */
  imageIndex: number;
  answers: VqaAnswer[];
  /** The question's token ids as the model saw them ([CLS] … [SEP], [PAD] up to maxLength). */
  inputIds: number[];
  /** With `attention: true`. */
  crossAttention?: CrossAttention;
}

export interface VqaScores {
  /** Row-major [questions, numLabels] answer scores, in question order. */
  scores: Float32Array;
  numLabels: number;
  batches: VqaBatch[];
  /** With `attention: true`: per question (in question order). */
  crossAttention?: CrossAttention[];
}

export const DEFAULT_MAX_LENGTH = 20;
export const DEFAULT_TOP_K = 5;

export class VqaPipeline {
  readonly model: VqaModel;
  readonly tokenizer: LxmertTokenizer;
  readonly labels: readonly string[];
  readonly config: LxmertConfig;
  readonly detector: RegionDetector | null;
  private readonly regionCache: RegionCache<ImageRegions>;
  private readonly maxPixels: number | undefined;
  /** Detector runs so far (cache misses); for tests and the demo's timings. */
  detections = 0;

  constructor(parts: VqaPipelineParts) {
    const { model, tokenizer, labels, detector } = parts ?? ({} as Partial<VqaPipelineParts>);
    if (detector !== undefined && (detector === null || typeof detector.detect !== 'function')) {
      throw new InputError('detector', 'a GeneralizedRCNN (with detect)', String(detector));
    }
    if (!model || typeof model.answerScores !== 'function' || !model.config) {
      throw new InputError(
        'model',
        'LxmertForQuestionAnswering or LxmertForPreTraining (an answer head)',
        model ? `${model.constructor?.name ?? typeof model} without answerScores` : String(model),
      );
    }
    if ((model as { answerHead?: unknown }).answerHead === null) {
      throw new InputError('model', 'a model with an answer head', 'config.task_qa false');
    }
    const cfg = model.config;
    if (!tokenizer || typeof tokenizer.encodeBatch !== 'function') {
      throw new InputError('tokenizer', 'an LxmertTokenizer', String(tokenizer));
    }
    let maxId = -1;
    for (const id of tokenizer.vocab.tokenToId.values()) maxId = Math.max(maxId, id);
    if (maxId >= cfg.vocabSize) {
      throw new InputError(
        'tokenizer',
        `token ids below config.vocab_size = ${cfg.vocabSize}`,
        `a vocabulary with ids up to ${maxId}`,
      );
    }
    if (!Array.isArray(labels) || labels.some((s) => typeof s !== 'string')) {
      throw new InputError('labels', 'an array of answer strings', typeof labels);
    }
    if (labels.length !== cfg.numQaLabels) {
      throw new InputError(
        'labels',
        `config.num_qa_labels = ${cfg.numQaLabels} answer strings`,
        `${labels.length}`,
      );
    }
    this.model = model;
    this.tokenizer = tokenizer;
    this.labels = labels;
    this.config = cfg;
    this.detector = detector ?? null;
    this.regionCache = new RegionCache<ImageRegions>(
      parts.regionCacheSize ?? DEFAULT_REGION_CACHE_SIZE,
    );
    this.maxPixels = parts.maxPixels;
  }

  /**
   * The regions of an image: run the detector (once per distinct image, see regionCacheSize)
   * and return its 36 rows as the model's visual input. Regions given as VisualInput pass
   * through unchanged.
   */
  async regions(image: VqaImage, argument = 'image'): Promise<VisualInput> {
    if (isVisualInput(image)) return image;
    return (await this.detect(image, argument)).visual;
  }

  /**
   * Run the detector on an image (once per distinct image, see regionCacheSize): its
   * detections (boxes, object and attribute ids, probabilities) and the visual input made of
   * them. The returned objects are the cache's: do not modify them.
   */
  async detect(image: ImageInput, argument = 'image'): Promise<ImageRegions> {
    const detector = this.detector;
    if (!detector) {
      throw new InputError(
        argument,
        'region features {features, boxes, numBoxes} (load a detector to pass images)',
        describeImage(image),
      );
    }
    const rgba = await imageToRgba(image, { maxPixels: this.maxPixels, argument });
    return this.regionCache.get(imageKey(rgba), async () => {
      this.detections++;
      const detections = await detector.detect(rgba);
      return { visual: detectionsToVisualInput(detections), detections };
    });
  }

  /** Forget every cached detection. */
  clearRegionCache(): void {
    this.regionCache.clear();
  }

  /**
   * Tokenize the questions and stack the images into model inputs (host arrays): one batch
   * per distinct number of boxes, each with the rows (question indices) it holds.
   */
  prepare(
    questions: string | readonly string[],
    images: VisualInput | readonly VisualInput[],
    options: VqaOptions = {},
  ): VqaBatch[] {
    const qs = typeof questions === 'string' ? [questions] : questions;
    if (!Array.isArray(qs) || qs.length === 0) {
      throw new InputError('questions', 'a string or a non-empty array of strings', String(qs));
    }
    qs.forEach((q, i) => {
      if (typeof q !== 'string') throw new InputError(`questions[${i}]`, 'a string', typeof q);
    });
    const imgs: readonly VisualInput[] = Array.isArray(images) ? images : [images as VisualInput];
    if (imgs.length !== 1 && imgs.length !== qs.length) {
      throw new InputError(
        'images',
        `one image, or ${qs.length} (one per question)`,
        `${imgs.length} images`,
      );
    }
    imgs.forEach((img, i) =>
      validateFeatures(img, {
        featureDim: this.config.visualFeatDim,
        posDim: this.config.visualPosDim,
        argument: imgs.length === 1 && !Array.isArray(images) ? 'image' : `images[${i}]`,
      }),
    );
    const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isSafeInteger(maxLength) || maxLength < 2) {
      throw new InputError('maxLength', 'an integer >= 2 ([CLS] and [SEP])', String(maxLength));
    }
    if (maxLength > this.config.maxPositionEmbeddings) {
      throw new InputError(
        'maxLength',
        `at most config.max_position_embeddings = ${this.config.maxPositionEmbeddings}`,
        String(maxLength),
      );
    }
    const enc = this.tokenizer.encodeBatch(qs, null, {
      padding: 'max_length',
      maxLength,
      truncation: true,
    });
    const imageOf = (row: number) => (imgs.length === 1 ? 0 : row);
    return buildBatches(enc, imgs, imageOf, this.config);
  }

  /** Every answer score of every question (one forward per batch of prepare). */
  async scores(
    questions: string | readonly string[],
    images: VqaImage | readonly VqaImage[],
    options: VqaOptions = {},
  ): Promise<VqaScores> {
    const withAttention = options.attention === true;
    if (withAttention && typeof this.model.answerScoresWithCrossAttention !== 'function') {
      throw new InputError('attention', 'a model that returns cross attention', 'this model');
    }
    const batches = this.prepare(questions, await this.resolveImages(images), options);
    const n = this.config.numQaLabels;
    const rows = batches.reduce((a, b) => a + b.batchSize, 0);
    const scores = new Float32Array(rows * n);
    const attention: CrossAttention[] = new Array(rows);
    for (const b of batches) {
      const r = await withDeviceRecovery(() => this.forward(b, withAttention));
      b.rows.forEach((row, i) => {
        scores.set(r.scores.subarray(i * n, (i + 1) * n), row * n);
        if (r.attention) {
          const per = r.attention.length / b.batchSize;
          attention[row] = {
            layers: this.config.xLayers,
            heads: this.config.numAttentionHeads,
            regions: b.numBoxes,
            values: r.attention.slice(i * per, (i + 1) * per),
          };
        }
      });
    }
    const out: VqaScores = { scores, numLabels: n, batches };
    if (withAttention) out.crossAttention = attention;
    return out;
  }

  /** Images → regions (each distinct image detected once), keeping the single/array form. */
  private async resolveImages(
    images: VqaImage | readonly VqaImage[],
  ): Promise<VisualInput | VisualInput[]> {
    if (!Array.isArray(images)) return this.regions(images as VqaImage);
    const out: VisualInput[] = [];
    for (let i = 0; i < images.length; i++) {
      out.push(await this.regions(images[i] as VqaImage, `images[${i}]`));
    }
    return out;
  }

  private async forward(
    b: VqaBatch,
    withAttention: boolean,
  ): Promise<{ scores: Float32Array; attention?: Float32Array }> {
    const { batchSize: bs, seqLength: l, numBoxes: v } = b;
    const inputs: LxmertInputs = {
      inputIds: tf.tensor2d(b.inputIds, [bs, l], 'int32'),
      attentionMask: tf.tensor2d(b.attentionMask, [bs, l], 'int32'),
      tokenTypeIds: tf.tensor2d(b.tokenTypeIds, [bs, l], 'int32'),
      visualFeats: tf.tensor3d(b.visualFeats, [bs, v, this.config.visualFeatDim], 'float32'),
      visualPos: tf.tensor3d(b.visualPos, [bs, v, this.config.visualPosDim], 'float32'),
      visualAttentionMask: b.visualAttentionMask
        ? tf.tensor2d(b.visualAttentionMask, [bs, v], 'float32')
        : null,
    };
    let out: tf.Tensor2D | undefined;
    let att: tf.Tensor4D | undefined;
    try {
      // Values were checked on the host (prepare): skip the forward's device-side checks.
      if (withAttention) {
        const r = this.model.answerScoresWithCrossAttention!(inputs, { validate: false });
        out = r.scores;
        att = r.crossAttention;
        const [scores, attention] = await Promise.all([out.data(), att.data()]);
        return { scores: scores as Float32Array, attention: attention as Float32Array };
      }
      out = this.model.answerScores(inputs, { validate: false });
      return { scores: (await out.data()) as Float32Array };
    } finally {
      out?.dispose();
      att?.dispose();
      tf.dispose([
        inputs.inputIds,
        inputs.attentionMask!,
        inputs.tokenTypeIds!,
        inputs.visualFeats,
        inputs.visualPos,
        ...(inputs.visualAttentionMask ? [inputs.visualAttentionMask] : []),
      ]);
    }
  }

  /** The top-k answers to one question about one image. */
  answer(question: string, image: VqaImage, options?: VqaOptions): Promise<VqaResult>;
  /** The top-k answers to each question: about one shared image, or one image per question. */
  answer(
    questions: readonly string[],
    images: VqaImage | readonly VqaImage[],
    options?: VqaOptions,
  ): Promise<VqaResult[]>;
  async answer(
    questions: string | readonly string[],
    images: VqaImage | readonly VqaImage[],
    options: VqaOptions = {},
  ): Promise<VqaResult | VqaResult[]> {
    const k = options.topK ?? DEFAULT_TOP_K;
    if (!Number.isSafeInteger(k) || k <= 0) {
      throw new InputError('topK', 'a positive integer', String(k));
    }
    const { scores, numLabels, batches, crossAttention } = await this.scores(
      questions,
      images,
      options,
    );
    const qs = typeof questions === 'string' ? [questions] : questions;
    const results: VqaResult[] = new Array(qs.length);
    for (const b of batches) {
      b.rows.forEach((row, i) => {
        const s = scores.subarray(row * numLabels, (row + 1) * numLabels);
        results[row] = {
          question: qs[row],
          imageIndex: b.imageIndex[i],
          answers: topK(s, Math.min(k, numLabels)).map((labelId) => ({
            answer: this.labels[labelId],
            labelId,
            score: s[labelId],
          })),
          inputIds: Array.from(b.inputIds.subarray(i * b.seqLength, (i + 1) * b.seqLength)),
        };
        if (crossAttention) results[row].crossAttention = crossAttention[row];
      });
    }
    return typeof questions === 'string' ? results[0] : results;
  }

  /** Free the model's and the detector's weights (the pipeline owns both). */
  dispose(): void {
    this.model.dispose?.();
    this.detector?.dispose?.();
    this.regionCache.clear();
  }
}

function isVisualInput(x: unknown): x is VisualInput {
  return typeof x === 'object' && x !== null && 'features' in x && 'numBoxes' in x;
}

function describeImage(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  return `${(x as object).constructor?.name ?? 'an object'} (an image, and no detector is loaded)`;
}
