/**
 * FrcnnConfig: the detector's `config.yaml` (Hugging Face's `utils.Config` format, as shipped
 * with `unc-nlp/frcnn-vg-finetuned`), the fields `modeling_frcnn.py` reads at inference.
 *
 * Original source: transformers/examples/research_projects/lxmert/utils.py (Config) and
 * modeling_frcnn.py. Keys in the file are lower-case sections (`resnets.depth`); training-only
 * keys (`solver`, `rpn.iou_thresholds` …) are read past.
 */
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';

/** Bottleneck blocks per stage (res2..res5) by ResNet depth, as detectron2's build_resnet. */
export const RESNET_BLOCKS: Readonly<Record<number, readonly [number, number, number, number]>> = {
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
};

export interface FrcnnConfig {
  /** `model.pixel_mean`, in `input.format` channel order (B,G,R for the real checkpoint). */
  pixelMean: [number, number, number];
  pixelStd: [number, number, number];
  /** `input.format`: the channel order the network reads. */
  inputFormat: 'BGR' | 'RGB';
  /** `input.min_size_test` / `max_size_test`: ResizeShortestEdge targets. */
  minSizeTest: number;
  maxSizeTest: number;
  /** `model.max_pool`: the stem's 3×3/2 ceil-mode max pool. */
  maxPool: boolean;
  resnets: {
    depth: number;
    numGroups: number;
    widthPerGroup: number;
    stemOutChannels: number;
    res2OutChannels: number;
    strideInOneByOne: boolean;
    /** `resnets.norm`: 'BN' (eval mode, folded into the convolutions). */
    norm: string;
  };
  proposalGenerator: { hiddenChannels: number; minSize: number };
  anchorGenerator: { sizes: number[]; aspectRatios: number[]; offset: number };
  rpn: {
    preNmsTopkTest: number;
    postNmsTopkTest: number;
    nmsThresh: number;
    bboxRegWeights: [number, number, number, number];
  };
  roiHeads: {
    numClasses: number;
    /** Tried in order until `minDetections` boxes survive. */
    nmsThreshTest: number[];
    /** Read for completeness: HF's selection never uses it. */
    scoreThreshTest: number;
  };
  roiBoxHead: {
    poolerResolution: number;
    bboxRegWeights: [number, number, number, number];
    /** false: res5 keeps stride 1 and dilates its 3×3 convs by 2 (the real checkpoint). */
    res5halve: boolean;
    attr: boolean;
    numAttrs: number;
  };
  sizeDivisibility: number;
  padValue: number;
  minDetections: number;
  maxDetections: number;
}

type Section = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Reads typed values out of the parsed YAML, naming `section.key` and the file on failure. */
class Reader {
  constructor(
    private readonly root: Section,
    private readonly source: string,
  ) {}

  private fail(field: string, expected: string, got: unknown): never {
    throw new ConfigError(field, `${expected} (in ${this.source})`, describe(got));
  }

  section(name: string): Section {
    const s = this.root[name];
    if (s === null || typeof s !== 'object' || Array.isArray(s)) {
      this.fail(name, 'a mapping (a Faster R-CNN detector config.yaml)', s);
    }
    return s as Section;
  }

  private value(section: string | null, key: string): [string, unknown] {
    const field = section ? `${section}.${key}` : key;
    return [field, section ? this.section(section)[key] : this.root[key]];
  }

  number(section: string | null, key: string, check: (n: number) => boolean, what: string) {
    const [field, v] = this.value(section, key);
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) this.fail(field, what, v);
    return v;
  }

  int(section: string | null, key: string, min: number): number {
    return this.number(section, key, (n) => Number.isInteger(n) && n >= min, `an integer ≥ ${min}`);
  }

  bool(section: string, key: string): boolean {
    const [field, v] = this.value(section, key);
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }

  string(section: string, key: string, allowed: readonly string[]): string {
    const [field, v] = this.value(section, key);
    if (typeof v !== 'string' || !allowed.includes(v)) {
      this.fail(field, `one of ${allowed.join(', ')}`, v);
    }
    return v;
  }

  numbers(section: string, key: string, length: number | null, nested = false): number[] {
    const [field, raw] = this.value(section, key);
    // Detectron2 writes per-level lists: sizes [[64, 128, 256, 512]]; one level (C4) here.
    let v = raw;
    if (nested) {
      if (!Array.isArray(v) || v.length !== 1) this.fail(field, 'one list per level, 1 level', v);
      v = v[0];
    }
    const ok =
      Array.isArray(v) &&
      v.length > 0 &&
      (length === null || v.length === length) &&
      v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok) this.fail(field, `a list of ${length ?? 'one or more'} numbers`, v);
    return v as number[];
  }
}

function four(v: number[]): [number, number, number, number] {
  return [v[0], v[1], v[2], v[3]];
}

function three(v: number[]): [number, number, number] {
  return [v[0], v[1], v[2]];
}

/**
 * Parse a detector `config.yaml`. Throws ConfigError naming the key (`resnets.depth`), what was
 * expected and what came; a file that is not a detector config (an LXMERT config.json, a
 * detectron2 config of another shape) fails on its first missing section.
 */
export function parseFrcnnConfig(yamlText: string, source = 'config.yaml'): FrcnnConfig {
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch (e) {
    throw new ConfigError('(file)', `YAML (in ${source})`, (e as Error).message.split('\n')[0]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('(file)', `a YAML mapping (in ${source})`, describe(doc));
  }
  const r = new Reader(doc as Section, source);
  const positive = (n: number) => n > 0;
  const unit = (n: number) => n >= 0 && n <= 1;
  const nmsThreshTest = r.numbers('roi_heads', 'nms_thresh_test', null);
  if (!nmsThreshTest.every(unit)) {
    throw new ConfigError(
      'roi_heads.nms_thresh_test',
      `thresholds in [0, 1] (in ${source})`,
      JSON.stringify(nmsThreshTest),
    );
  }
  const config: FrcnnConfig = {
    pixelMean: three(r.numbers('model', 'pixel_mean', 3)),
    pixelStd: three(r.numbers('model', 'pixel_std', 3)),
    inputFormat: r.string('input', 'format', ['BGR', 'RGB']) as 'BGR' | 'RGB',
    minSizeTest: r.int('input', 'min_size_test', 1),
    maxSizeTest: r.int('input', 'max_size_test', 1),
    maxPool: r.bool('model', 'max_pool'),
    resnets: {
      depth: r.number('resnets', 'depth', (n) => n in RESNET_BLOCKS, '50, 101 or 152'),
      numGroups: r.number('resnets', 'num_groups', (n) => n === 1, '1 (grouped convs: none)'),
      widthPerGroup: r.int('resnets', 'width_per_group', 1),
      stemOutChannels: r.int('resnets', 'stem_out_channels', 1),
      res2OutChannels: r.int('resnets', 'res2_out_channels', 1),
      strideInOneByOne: r.bool('resnets', 'stride_in_1x1'),
      norm: r.string('resnets', 'norm', ['BN', 'FrozenBN']),
    },
    proposalGenerator: {
      hiddenChannels: r.int('proposal_generator', 'hidden_channels', 1),
      minSize: r.number('proposal_generator', 'min_size', (n) => n >= 0, 'a number ≥ 0'),
    },
    anchorGenerator: {
      sizes: r.numbers('anchor_generator', 'sizes', null, true),
      aspectRatios: r.numbers('anchor_generator', 'aspect_ratios', null, true),
      offset: r.number('anchor_generator', 'offset', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    },
    rpn: {
      preNmsTopkTest: r.int('rpn', 'pre_nms_topk_test', 1),
      postNmsTopkTest: r.int('rpn', 'post_nms_topk_test', 1),
      nmsThresh: r.number('rpn', 'nms_thresh', unit, 'a number in [0, 1]'),
      bboxRegWeights: four(r.numbers('rpn', 'bbox_reg_weights', 4)),
    },
    roiHeads: {
      numClasses: r.int('roi_heads', 'num_classes', 1),
      nmsThreshTest,
      scoreThreshTest: r.number('roi_heads', 'score_thresh_test', unit, 'a number in [0, 1]'),
    },
    roiBoxHead: {
      poolerResolution: r.int('roi_box_head', 'pooler_resolution', 1),
      bboxRegWeights: four(r.numbers('roi_box_head', 'bbox_reg_weights', 4)),
      res5halve: r.bool('roi_box_head', 'res5halve'),
      attr: r.bool('roi_box_head', 'attr'),
      numAttrs: r.int('roi_box_head', 'num_attrs', 1),
    },
    sizeDivisibility: r.int(null, 'size_divisibility', 0),
    padValue: r.number(null, 'pad_value', Number.isFinite, 'a number'),
    minDetections: r.int(null, 'min_detections', 1),
    maxDetections: r.int(null, 'max_detections', 1),
  };
  if (!config.pixelStd.every(positive)) {
    throw new ConfigError(
      'model.pixel_std',
      `positive numbers (in ${source})`,
      JSON.stringify(config.pixelStd),
    );
  }
  if (config.minSizeTest > config.maxSizeTest) {
    throw new ConfigError(
      'input.min_size_test',
      `at most input.max_size_test ${config.maxSizeTest} (in ${source})`,
      `${config.minSizeTest}`,
    );
  }
  return config;
}

/** unc-nlp/frcnn-vg-finetuned's config: ResNet-101 C4, 800/1333, widths 64 … 2048. */
export function frcnnFullConfig(): FrcnnConfig {
  return {
    pixelMean: [102.9801, 115.9465, 122.7717],
    pixelStd: [1, 1, 1],
    inputFormat: 'BGR',
    minSizeTest: 800,
    maxSizeTest: 1333,
    maxPool: true,
    resnets: {
      depth: 101,
      numGroups: 1,
      widthPerGroup: 64,
      stemOutChannels: 64,
      res2OutChannels: 256,
      strideInOneByOne: true,
      norm: 'BN',
    },
    proposalGenerator: { hiddenChannels: 512, minSize: 0 },
    anchorGenerator: { sizes: [64, 128, 256, 512], aspectRatios: [0.5, 1, 2], offset: 0 },
    rpn: {
      preNmsTopkTest: 6000,
      postNmsTopkTest: 300,
      nmsThresh: 0.7,
      bboxRegWeights: [1, 1, 1, 1],
    },
    roiHeads: { numClasses: 1600, nmsThreshTest: [0.5, 0.6, 0.7], scoreThreshTest: 0.2 },
    roiBoxHead: {
      poolerResolution: 14,
      bboxRegWeights: [10, 10, 5, 5],
      res5halve: false,
      attr: true,
      numAttrs: 400,
    },
    sizeDivisibility: 0,
    padValue: 0,
    minDetections: 36,
    maxDetections: 36,
  };
}

/** Channel widths derived as HF's build_resnet_backbone / Res5ROIHeads derive them. */
export interface FrcnnWidths {
  stem: number;
  /** Output channels of res2..res5. */
  out: [number, number, number, number];
  /** Bottleneck (conv1/conv2) channels of res2..res5. */
  bottleneck: [number, number, number, number];
  /** Blocks of res2..res5. */
  blocks: readonly [number, number, number, number];
  /** res4 channels (the RPN's and RoIPool's input). */
  c4: number;
  /** res5 channels (the region feature size). */
  c5: number;
  /** Anchors per cell. */
  anchorsPerCell: number;
  /** cls_embedding width (C5 / 8) and fc_attr output width (C5 / 4). */
  clsEmbedding: number;
  attrHidden: number;
}

export function frcnnWidths(config: FrcnnConfig): FrcnnWidths {
  const r = config.resnets;
  const b0 = r.numGroups * r.widthPerGroup;
  const o0 = r.res2OutChannels;
  const out: [number, number, number, number] = [o0, o0 * 2, o0 * 4, o0 * 8];
  const c5 = out[3];
  return {
    stem: r.stemOutChannels,
    out,
    bottleneck: [b0, b0 * 2, b0 * 4, b0 * 8],
    blocks: RESNET_BLOCKS[r.depth],
    c4: out[2],
    c5,
    anchorsPerCell:
      config.anchorGenerator.sizes.length * config.anchorGenerator.aspectRatios.length,
    clsEmbedding: Math.floor(c5 / 8),
    attrHidden: Math.floor(c5 / 4),
  };
}
