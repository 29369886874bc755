/**
 * The package's data/ files a model may fall back on (data/SOURCES.md says where each comes
 * from): answer lists by `num_qa_labels` and the BERT uncased vocabulary. Browser-safe: names
 * only; Node reads them with labels.ts, browsers fetch them from where the page serves data/.
 */

/** Built-in label files by `num_qa_labels`. */
export const BUILTIN_LABELS: Readonly<Record<number, string>> = {
  3129: 'vqa-answers.json',
  1842: 'gqa-answers.json',
  9500: 'pretrain-answers.json',
};

/** The BERT uncased vocabulary all unc-nlp LXMERT models use (30522 tokens). */
export const DEFAULT_VOCAB = 'bert-base-uncased-vocab.txt';
export const DEFAULT_VOCAB_SIZE = 30522;
