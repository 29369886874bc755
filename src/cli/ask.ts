/**
 * `lxmert ask --model DIR --detector DIR --image IMG [--backend B] [--top-k 5] [--json]
 *  "QUESTION"...`: a photo and a question → answers. The detector runs once; every question is
 * asked about its regions.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_MAX_PIXELS } from '../features/image_header.js';
import { readImageFile } from '../features/image_node.js';
import { LxmertVqa } from '../app/lxmert_vqa.js';
import '../node.js'; // folders as model and detector sources
import { DEFAULT_TOP_K } from '../pipeline/vqa.js';
import { readLabelsFile } from '../weights/labels.js';
import { parseOptions, positiveInt, required } from './args.js';
import { backendOption } from './backend_option.js';
import { activateBackend, backendReport } from './runtime.js';

const HELP = `usage: lxmert ask --model DIR --detector DIR --image IMG [--backend auto|cpu|wasm|webgpu]
                  [--top-k ${DEFAULT_TOP_K}] [--max-pixels N] [--labels FILE] [--json] "QUESTION"...

Answers questions about a PNG/JPEG image: the detector (DIR: a converted or Hugging Face
unc-nlp/frcnn-vg-finetuned folder) finds its 36 regions once, then the VQA model (DIR: a
converted or Hugging Face LXMERT QA folder) answers each question. Prints the top-k answers
with their scores (the answer head's logits), best first; --json prints one line per question:
{"question", "answers": [{"answer", "score", "labelId"}, …]}. Default backend: auto.`;

export async function ask(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(
    'ask',
    argv,
    {
      model: { type: 'string' },
      detector: { type: 'string' },
      image: { type: 'string' },
      backend: { type: 'string' },
      'top-k': { type: 'string' },
      'max-pixels': { type: 'string' },
      labels: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const modelDir = required(values, 'model', 'ask');
  const detectorDir = required(values, 'detector', 'ask');
  const imagePath = required(values, 'image', 'ask');
  const backend = backendOption(values.backend, 'auto');
  const topK = positiveInt(values, 'top-k', DEFAULT_TOP_K);
  const maxPixels = positiveInt(values, 'max-pixels', DEFAULT_MAX_PIXELS);
  if (positionals.length === 0 || positionals.some((q) => q.trim() === '')) {
    throw new UsageError(`expected a non-empty "QUESTION" (see 'lxmert ask --help')`);
  }
  // The image first: a bad file fails before any weights are loaded.
  const image = await readImageFile(imagePath, { maxPixels });
  const labels =
    values.labels === undefined ? undefined : await readLabelsFile(values.labels as string);
  const selection = await activateBackend(backend);
  const vqa = await LxmertVqa.load({
    model: modelDir,
    detector: detectorDir,
    worker: false,
    backend: selection.backend,
    labels,
    maxPixels,
    regionCacheSize: 1,
  });
  try {
    if (topK > vqa.info.numLabels) {
      throw new UsageError(`--top-k: at most ${vqa.info.numLabels} answers, got ${topK}`);
    }
    process.stderr.write(`lxmert ask: backend ${backendReport()}\n`);
    const out: string[] = [];
    for (const question of positionals) {
      const r = await vqa.answer(image, question, { topK });
      if (values.json) {
        const answers = r.answers.map((a) => ({
          answer: a.answer,
          score: a.score,
          labelId: a.labelId,
        }));
        out.push(JSON.stringify({ question, answers }));
      } else {
        if (positionals.length > 1) out.push(question);
        for (const a of r.answers) out.push(`${a.score.toFixed(4)}\t${a.answer}`);
      }
    }
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    vqa.dispose();
  }
}
