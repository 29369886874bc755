/**
 * Node: a VqaPipeline from a model folder (a `lxmert convert` output or a Hugging Face checkpoint
 * folder), with its tokenizer and answer labels found as the CLI finds them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, type BackendPreference, type BackendSelection } from '../backend.js';
import { WeightsError } from '../errors.js';
import { buildModel } from '../model/index.js';
import { gpuWeightFormat } from '../weights/manifest.js';
import { loadDefaultTokenizer, loadTokenizer } from '../tokenizer/node.js';
import { LxmertTokenizer } from '../tokenizer/tokenizer.js';
import { loadCheckpoint, type Checkpoint } from '../weights/checkpoint.js';
import { readLabelsFile, resolveLabels } from '../weights/labels.js';
import type { ProgressCallback } from '../weights/progress.js';
import { GeneralizedRCNN } from '../detector/index.js';
import { loadDetector } from '../weights/detector_node.js';
import { VqaPipeline } from './vqa.js';

export interface LoadVqaPipelineOptions {
  /**
   * Answer strings (an array, or a labels file: JSON array or one label a line). Default: the
   * model's own (converted labels.json, config id2label), else data/vqa-answers.json,
   * gqa-answers.json or pretrain-answers.json by num_qa_labels (3129, 1842, 9500).
   */
  labels?: readonly string[] | string;
  /** Default: the model folder's vocab.txt / tokenizer.json, else bert-base-uncased. */
  tokenizer?: LxmertTokenizer;
  /** Activate a backend first (selectBackend); default: leave tf.js's active backend. */
  backend?: BackendPreference;
  /** Progress of a converted model's shards. */
  onProgress?: ProgressCallback;
  /**
   * A detector folder (a `lxmert convert` output of unc-nlp/frcnn-vg-finetuned, or the HF
   * folder with config.yaml): the pipeline then answers questions about images.
   */
  detector?: string;
  /** Images whose regions are kept (default 8; see VqaPipelineParts.regionCacheSize). */
  regionCacheSize?: number;
  /** Refuse images over this many pixels (default 50 000 000), before decoding. */
  maxPixels?: number;
}

export interface LoadedVqaPipeline {
  pipeline: VqaPipeline;
  /** Where the weights, labels and vocabulary came from. */
  sources: { weights: string; labels: string; tokenizer: string; detector?: string };
  /** Set when `backend` was given. */
  backend?: BackendSelection;
}

async function pickLabels(
  ckpt: Checkpoint,
  given: LoadVqaPipelineOptions['labels'],
): Promise<{ labels: readonly string[]; from: string }> {
  if (Array.isArray(given)) return { labels: given, from: 'options.labels' };
  if (typeof given === 'string') {
    return { labels: await readLabelsFile(given), from: given };
  }
  if (ckpt.manifest && ckpt.labels) return { labels: ckpt.labels, from: 'labels.json' };
  // config.json's id2label, else the built-in list by num_qa_labels (says which it used).
  const r = await resolveLabels(ckpt.config, undefined);
  if (!r) {
    throw new WeightsError(
      `no answer labels for num_qa_labels = ${ckpt.config.numQaLabels} ` +
        '(no labels.json or id2label, no built-in list of that size): pass options.labels',
      ckpt.source,
    );
  }
  return r;
}

async function pickTokenizer(
  dir: string,
  ckpt: Checkpoint,
): Promise<{ tokenizer: LxmertTokenizer; from: string }> {
  if (ckpt.manifest) {
    if (ckpt.vocab !== undefined) {
      return { tokenizer: LxmertTokenizer.fromVocabText(ckpt.vocab), from: 'vocab.txt' };
    }
  } else if (existsSync(join(dir, 'vocab.txt')) || existsSync(join(dir, 'tokenizer.json'))) {
    return { tokenizer: await loadTokenizer(dir), from: dir };
  }
  return { tokenizer: await loadDefaultTokenizer(), from: 'data/bert-base-uncased-vocab.txt' };
}

/** Load a model folder into a VqaPipeline. */
export async function loadVqaPipeline(
  modelDir: string,
  options: LoadVqaPipelineOptions = {},
): Promise<LoadedVqaPipeline> {
  const backend = options.backend ? await selectBackend(options.backend) : undefined;
  const ckpt = await loadCheckpoint(modelDir, { onProgress: options.onProgress });
  if (ckpt.architecture === 'LxmertModel') {
    throw new WeightsError(
      'an LxmertModel has no answer head; VQA needs LxmertForQuestionAnswering ' +
        'or LxmertForPreTraining with task_qa',
      ckpt.source,
    );
  }
  const labels = await pickLabels(ckpt, options.labels);
  const tok = options.tokenizer
    ? { tokenizer: options.tokenizer, from: 'options.tokenizer' }
    : await pickTokenizer(modelDir, ckpt);
  const model = buildModel(ckpt.config, ckpt.weights, {
    architecture: ckpt.architecture,
    source: ckpt.source,
    weightFormat: gpuWeightFormat(ckpt.manifest),
  });
  let pipeline: VqaPipeline;
  let detector: GeneralizedRCNN | undefined;
  let detectorSource: string | undefined;
  try {
    if (!('answerScores' in model)) throw new WeightsError('the model has no answer head');
    if (options.detector !== undefined) {
      const det = await loadDetector(options.detector, { onProgress: options.onProgress });
      detector = GeneralizedRCNN.build(det.config, det.weights, { source: det.source });
      detectorSource = det.source;
    }
    pipeline = new VqaPipeline({
      model,
      tokenizer: tok.tokenizer,
      labels: labels.labels,
      detector,
      regionCacheSize: options.regionCacheSize,
      maxPixels: options.maxPixels,
    });
  } catch (e) {
    model.dispose();
    detector?.dispose();
    throw e;
  }
  const out: LoadedVqaPipeline = {
    pipeline,
    sources: { weights: ckpt.source, labels: labels.from, tokenizer: tok.from },
  };
  if (detectorSource) out.sources.detector = detectorSource;
  if (backend) out.backend = backend;
  return out;
}
