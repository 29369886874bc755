/**
 * LxmertEmbeddings and LxmertVisualFeatureEncoder.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNorm, dense, gatherRows } from '../../kernels/ops.js';
import type { LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import {
  asList,
  LN_EPS,
  LxmertModule,
  type LayerNormWeights,
  type WeightSource,
} from './module.js';

/** word + position + token-type embeddings → LayerNorm. */
export class LxmertEmbeddings extends LxmertModule {
  static readonly className: string = 'LxmertEmbeddings';
  /** [vocab, H]; also the MLM decoder's weight (tied). */
  readonly wordEmbeddings: LinearWeights;
  readonly positionEmbeddings: LinearWeights;
  readonly tokenTypeEmbeddings: LinearWeights;
  readonly LayerNorm: LayerNormWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    const h = cfg.hiddenSize;
    this.wordEmbeddings = this.embedding('word_embeddings.weight', cfg.vocabSize, h);
    this.positionEmbeddings = this.embedding(
      'position_embeddings.weight',
      cfg.maxPositionEmbeddings,
      h,
    );
    this.tokenTypeEmbeddings = this.embedding('token_type_embeddings.weight', cfg.typeVocabSize, h);
    this.LayerNorm = this.layerNorm('LayerNorm', h);
  }

  /**
   * @param inputIds [B, L] int32
   * @param tokenTypeIds [B, L] int32
   * @returns [B, L, H]
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor3D {
    const [inputIds, tokenTypeIds] = asList(inputs) as tf.Tensor2D[];
    return tf.tidy(() => {
      const [b, seqLen] = inputIds.shape;
      const rows = (table: LinearWeights, ids: tf.Tensor) =>
        gatherRows(table, tf.reshape(ids, [-1]) as tf.Tensor1D);
      const words = tf.reshape(rows(this.wordEmbeddings, inputIds), [b, seqLen, -1]); // [B, L, H]
      const positions = rows(this.positionEmbeddings, tf.range(0, seqLen, 1, 'int32')); // [L, H]
      const types = tf.reshape(rows(this.tokenTypeEmbeddings, tokenTypeIds), [b, seqLen, -1]);
      const sum = tf.add(tf.add(words, positions), types);
      return addLayerNorm(
        sum,
        null,
        this.LayerNorm.gamma,
        this.LayerNorm.beta,
        LN_EPS,
      ) as tf.Tensor3D;
    });
  }
}

/** (LN(visn_fc(feats)) + LN(box_fc(pos))) / 2. */
export class LxmertVisualFeatureEncoder extends LxmertModule {
  static readonly className: string = 'LxmertVisualFeatureEncoder';
  readonly visnFc: LinearWeights;
  readonly visnLayerNorm: LayerNormWeights;
  readonly boxFc: LinearWeights;
  readonly boxLayerNorm: LayerNormWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    const h = cfg.hiddenSize;
    this.visnFc = this.linear('visn_fc', cfg.visualFeatDim, h);
    this.visnLayerNorm = this.layerNorm('visn_layer_norm', h);
    this.boxFc = this.linear('box_fc', cfg.visualPosDim, h);
    this.boxLayerNorm = this.layerNorm('box_layer_norm', h);
  }

  /**
   * @param visualFeats [B, V, F]
   * @param visualPos [B, V, P]
   * @returns [B, V, H]
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor3D {
    const [feats, pos] = asList(inputs) as tf.Tensor3D[];
    return tf.tidy(() => {
      const x = addLayerNorm(
        dense(feats, this.visnFc),
        null,
        this.visnLayerNorm.gamma,
        this.visnLayerNorm.beta,
        LN_EPS,
      );
      const y = addLayerNorm(
        dense(pos, this.boxFc),
        null,
        this.boxLayerNorm.gamma,
        this.boxLayerNorm.beta,
        LN_EPS,
      );
      return tf.div(tf.add(x, y), 2) as tf.Tensor3D;
    });
  }
}
