#!/usr/bin/python3
"""Write a full-size Hugging Face TF checkpoint with seeded random weights: config.json +
tf_model.h5 in the Keras 2 `save_weights` layout of TFLxmertForPreTraining (lxmert-base-uncased
shapes: 9/5/5 layers, hidden 768, 9500 QA labels; ~0.9 GB), for the converter benchmark
(bench/convert_tf.mjs). One tensor at a time, so it needs a few hundred MB of memory.

The variable list follows HF's TF names (the inverse of convert_tf_weight_name_to_pt_weight_name,
kernels stored [in, out], the tied MLM decoder left out); it is checked against the
lxmert-tiny-tf fixture first (same names and shapes at the fixture's sizes).

Needs h5py and numpy (Debian: apt-get install -y python3-h5py; run with /usr/bin/python3).
Usage: /usr/bin/python3 scripts/make-random-tf-checkpoint.py [OUTDIR] [--seed N]
OUTDIR defaults to weights/random-lxmert-base-tf (git-ignored).
"""
import argparse
import json
import os

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
MODEL = 'tf_lxmert_for_pre_training'

BASE = {
    'architectures': ['TFLxmertForPreTraining'], 'model_type': 'lxmert', 'vocab_size': 30522,
    'hidden_size': 768, 'num_attention_heads': 12, 'intermediate_size': 3072,
    'hidden_act': 'gelu', 'max_position_embeddings': 512, 'type_vocab_size': 2,
    'num_qa_labels': 9500, 'num_object_labels': 1600, 'num_attr_labels': 400, 'l_layers': 9,
    'x_layers': 5, 'r_layers': 5, 'visual_feat_dim': 2048, 'visual_pos_dim': 4,
}


def variables(c):
    """(top-level layer, TF variable name, shape) of TFLxmertForPreTraining, all heads on."""
    h, i = c['hidden_size'], c['intermediate_size']
    out = []

    def add(path, shape):
        out.append((path.split('/')[0], f'{MODEL}/{path}:0', tuple(shape)))

    def dense(p, n_in, n_out):
        add(f'{p}/kernel', (n_in, n_out))
        add(f'{p}/bias', (n_out,))

    def norm(p, n):
        add(f'{p}/gamma', (n,))
        add(f'{p}/beta', (n,))

    def attention(p, self_name):
        for q in ('query', 'key', 'value'):
            dense(f'{p}/{self_name}/{q}', h, h)
        dense(f'{p}/output/dense', h, h)
        norm(f'{p}/output/LayerNorm', h)

    def ffn(inter, output):
        dense(f'{inter}/dense', h, i)
        dense(f'{output}/dense', i, h)
        norm(f'{output}/LayerNorm', h)

    e = 'lxmert/embeddings'
    add(f'{e}/word_embeddings/weight', (c['vocab_size'], h))
    add(f'{e}/position_embeddings/embeddings', (c['max_position_embeddings'], h))
    add(f'{e}/token_type_embeddings/embeddings', (c['type_vocab_size'], h))
    norm(f'{e}/LayerNorm', h)
    v = 'lxmert/encoder/visn_fc'
    dense(f'{v}/visn_fc', c['visual_feat_dim'], h)
    norm(f'{v}/visn_layer_norm', h)
    dense(f'{v}/box_fc', c['visual_pos_dim'], h)
    norm(f'{v}/box_layer_norm', h)
    for kind, n in (('layer', c['l_layers']), ('r_layers', c['r_layers'])):
        for k in range(n):
            p = f'lxmert/encoder/{kind}_._{k}'
            attention(f'{p}/attention', 'self')
            ffn(f'{p}/intermediate', f'{p}/output')
    for k in range(c['x_layers']):
        p = f'lxmert/encoder/x_layers_._{k}'
        attention(f'{p}/visual_attention', 'att')
        attention(f'{p}/lang_self_att', 'self')
        attention(f'{p}/visn_self_att', 'self')
        ffn(f'{p}/lang_inter', f'{p}/lang_output')
        ffn(f'{p}/visn_inter', f'{p}/visn_output')
    dense('lxmert/pooler/dense', h, h)
    add('cls/predictions/bias', (c['vocab_size'],))
    dense('cls/predictions/transform/dense', h, h)
    norm('cls/predictions/transform/LayerNorm', h)
    dense('cls/seq_relationship', h, 2)
    dense('obj_predict_head/transform/dense', h, h)
    norm('obj_predict_head/transform/LayerNorm', h)
    dense('obj_predict_head/decoder_dict.obj', h, c['num_object_labels'])
    dense('obj_predict_head/decoder_dict.attr', h, c['num_attr_labels'])
    dense('obj_predict_head/decoder_dict.feat', h, c['visual_feat_dim'])
    dense('answer_head/logit_fc_._0', h, 2 * h)
    norm('answer_head/logit_fc_._2', 2 * h)
    dense('answer_head/logit_fc_._3', 2 * h, c['num_qa_labels'])
    return out


def check_against_fixture():
    folder = os.path.join(ROOT, 'test', 'fixtures', 'lxmert-tiny-tf')
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    want = {name: shape for _, name, shape in variables(cfg)}
    got = {}
    with h5py.File(os.path.join(folder, 'tf_model.h5'), 'r') as f:
        for layer in f.attrs['layer_names']:
            g = f[layer.decode()]
            for n in g.attrs['weight_names']:
                got[n.decode()] = g[n.decode()].shape
    if want != got:
        raise SystemExit(f'variable list differs from the fixture: {set(want) ^ set(got)}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir', nargs='?', default=os.path.join(ROOT, 'weights', 'random-lxmert-base-tf'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    check_against_fixture()
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, 'config.json'), 'w') as f:
        json.dump(BASE, f, indent=2)
    rng = np.random.default_rng(args.seed)
    vs = variables(BASE)
    layers = list(dict.fromkeys(layer for layer, _, _ in vs))
    path = os.path.join(args.outdir, 'tf_model.h5')
    with h5py.File(path, 'w') as f:
        f.attrs['layer_names'] = np.array([n.encode() for n in layers])
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = b'2.3.0'
        for layer in layers:
            names = [n for l, n, _ in vs if l == layer]
            g = f.create_group(layer)
            g.attrs['weight_names'] = np.array([n.encode() for n in names])
        for layer, name, shape in vs:
            leaf = name.rsplit('/', 1)[-1]
            if leaf in ('gamma:0',):
                data = np.ones(shape, dtype=np.float32)
            elif leaf in ('beta:0', 'bias:0'):
                data = np.zeros(shape, dtype=np.float32)
            else:
                data = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)
            f[layer].create_dataset(name, data=data)
    n = sum(int(np.prod(s)) for _, _, s in vs)
    print(f'wrote {path}: {len(vs)} variables, {n} parameters, {os.path.getsize(path) / 1e6:.1f} MB')


if __name__ == '__main__':
    main()
