/**
 * `lxmert convert SRC OUTDIR`: a Hugging Face LXMERT checkpoint (folder or Hub id) → sharded,
 * verified lxmert-web weights (model.json + group1-shard*.bin).
 */
import { UsageError } from '../errors.js';
import { convertCheckpoint, DEFAULT_SHARD_SIZE } from '../weights/converter.js';
import { OUTPUT_DTYPES, type OutputDtype } from '../weights/manifest.js';
import { progressBar } from '../weights/progress.js';
import { parseOptions, positiveInt } from './args.js';
import { FROM_HELP, fromOption } from './from_option.js';

const HELP = `usage: lxmert convert SRC OUTDIR [options]

Convert a Hugging Face LXMERT checkpoint to lxmert-web weights: OUTDIR/model.json (a
TensorFlow.js-style weights manifest with the config, sha256 of every file and the source)
and ${DEFAULT_SHARD_SIZE / 1048576} MiB shards group1-shard{i}of{n}.bin, plus vocab.txt and
labels.json when known.

SRC is a folder with config.json and model.safetensors, pytorch_model.bin (zip or legacy
format), TF tf_model.h5 (TFLxmertModel, TFLxmertForPreTraining) or a sharded *.index.json; or
a Hub model id such as unc-nlp/lxmert-vqa-uncased. PyTorch pickles are parsed, never run:
anything but tensors, storages and OrderedDict is refused. HDF5 files are read without
following links, virtual datasets or external storage into other files. OUTDIR must not exist
(or be empty); it appears only when complete.

options:
  --dtype float32|float16|int8   weight encoding (default float32); int8 is per-row
                                 symmetric for matrices and embeddings, float32 elsewhere
  --shard-size BYTES             bytes per shard (default ${DEFAULT_SHARD_SIZE})
${FROM_HELP}
  --labels FILE                  answer labels (JSON array or one a line); default: the
                                 config's id2label or data/*-answers.json by num_qa_labels
  --endpoint URL                 Hub endpoint (default $HF_ENDPOINT or https://huggingface.co)
  --revision REV                 Hub branch, tag or commit (default main)
  --cache-dir DIR                download cache (default $LXMERT_CACHE or ~/.cache/lxmert-web/hub)
  --progress / --no-progress     download progress on stderr (default: when stderr is a TTY)
  -h, --help                     this help

environment: HF_TOKEN (sent to the endpoint only), HF_ENDPOINT, LXMERT_CACHE`;

export async function convert(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(
    'convert',
    argv,
    {
      dtype: { type: 'string' },
      'shard-size': { type: 'string' },
      labels: { type: 'string' },
      from: { type: 'string' },
      endpoint: { type: 'string' },
      revision: { type: 'string' },
      'cache-dir': { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `expected SRC and OUTDIR, got ${positionals.length} argument(s) (see 'lxmert convert --help')`,
    );
  }
  const [src, outDir] = positionals;
  const dtype = (values.dtype ?? 'float32') as string;
  if (!(OUTPUT_DTYPES as readonly string[]).includes(dtype)) {
    throw new UsageError(`--dtype: expected one of ${OUTPUT_DTYPES.join(', ')}, got '${dtype}'`);
  }
  const shardSize = positiveInt(values, 'shard-size', DEFAULT_SHARD_SIZE);
  const from = fromOption(values.from);
  const show = values['no-progress']
    ? false
    : Boolean(values.progress) || Boolean(process.stderr.isTTY);
  const t0 = performance.now();
  const result = await convertCheckpoint(src, outDir, {
    dtype: dtype as OutputDtype,
    shardSize,
    labels: values.labels as string | undefined,
    from,
    endpoint: values.endpoint as string | undefined,
    revision: values.revision as string | undefined,
    cacheDir: values['cache-dir'] as string | undefined,
    onProgress: show ? progressBar(process.stderr) : undefined,
  });
  for (const w of result.warnings) process.stderr.write(`lxmert convert: warning: ${w}\n`);
  const m = result.manifest;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const extras = [m.vocab ? 'vocab' : '', m.labels ? `${m.labels.count} labels` : ''].filter(
    Boolean,
  );
  process.stdout.write(
    `wrote ${result.outDir}: ${m.architecture}, ${m.weightsManifest[0].weights.length} tensors, ` +
      `${m.dtype}, ${(result.bytes / 1e6).toFixed(1)} MB in ${m.shards.length} shard(s)` +
      `${extras.length ? `, ${extras.join(', ')}` : ''} (${secs} s)\n`,
  );
}
