/**
 * `lxmert tokenize (--vocab FILE | --model DIR)`: JSON lines `{"text", "text_pair"?, "max_length"?}`
 * on stdin → one JSON line `{"input_ids", "token_type_ids", "attention_mask"}` per input on stdout.
 */
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { InputError, TokenizerError, UsageError } from '../errors.js';
import { loadTokenizer } from '../tokenizer/node.js';
import type { EncodeOptions, LxmertTokenizer } from '../tokenizer/index.js';
import { parseOptions } from './args.js';

const HELP = `usage: lxmert tokenize (--vocab FILE | --model DIR) < questions.jsonl

Tokenize with LxmertTokenizer (BERT WordPiece, uncased; identical to Hugging Face's
BertTokenizer). Reads JSON lines from stdin, one object per line (blank lines are skipped):

  {"text": "What color is the cat?", "text_pair": "optional", "max_length": 20}

and writes one JSON line per input to stdout:

  {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}

With "max_length", the input is truncated ('longest_first') and padded with [PAD] to exactly
max_length tokens, special tokens included; an input that cannot be truncated that far is an
error. Without it, nothing is truncated or padded.

options:
  --vocab FILE   a vocab.txt (one token per line) or a tokenizer.json;
                 the bundled one is data/bert-base-uncased-vocab.txt
  --model DIR    a checkpoint folder with vocab.txt (and tokenizer_config.json) or tokenizer.json
  -h, --help     this help`;

const LINE_SHAPE =
  'a JSON object {"text": string, "text_pair"?: string, "max_length"?: positive integer}';

export async function tokenize(argv: string[]): Promise<void> {
  const { values } = parseOptions('tokenize', argv, {
    vocab: { type: 'string' },
    model: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const tokenizer = await loadFromOptions(values.vocab, values.model);
  await tokenizeLines(tokenizer, process.stdin, process.stdout);
}

async function loadFromOptions(
  vocab: string | boolean | undefined,
  model: string | boolean | undefined,
): Promise<LxmertTokenizer> {
  const given = (v: unknown): v is string => typeof v === 'string' && v !== '';
  if (given(vocab) === given(model)) {
    throw new UsageError(
      "give exactly one of --vocab FILE and --model DIR (see 'lxmert tokenize --help')",
    );
  }
  const path = given(vocab) ? vocab : (model as string);
  const isDir = statOrNull(path)?.isDirectory();
  if (isDir === undefined)
    throw new UsageError(`${given(vocab) ? '--vocab' : '--model'} ${path}: no such file or folder`);
  if (given(vocab) && isDir) throw new UsageError(`--vocab ${path}: is a folder (use --model DIR)`);
  if (given(model) && !isDir)
    throw new UsageError(`--model ${path}: not a folder (use --vocab FILE)`);
  return loadTokenizer(path);
}

function statOrNull(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** One stdin line → the text, pair and encode options; throws InputError naming the line. */
export function parseLine(
  line: string,
  lineNo: number,
): { text: string; pair: string | null; options: EncodeOptions } {
  const where = `stdin line ${lineNo}`;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new InputError(where, LINE_SHAPE, `invalid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new InputError(
      where,
      LINE_SHAPE,
      obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj,
    );
  }
  const rec = obj as Record<string, unknown>;
  const unknown = Object.keys(rec).filter(
    (k) => k !== 'text' && k !== 'text_pair' && k !== 'max_length',
  );
  if (unknown.length > 0)
    throw new InputError(
      where,
      LINE_SHAPE,
      `unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  const { text, text_pair: pair, max_length: maxLength } = rec;
  if (typeof text !== 'string')
    throw new InputError(
      `${where}: text`,
      'a string',
      text === undefined ? 'nothing' : typeof text,
    );
  if (pair != null && typeof pair !== 'string')
    throw new InputError(`${where}: text_pair`, 'a string', typeof pair);
  if (maxLength == null) return { text, pair: pair ?? null, options: {} };
  if (typeof maxLength !== 'number' || !Number.isSafeInteger(maxLength) || maxLength <= 0) {
    throw new InputError(`${where}: max_length`, 'a positive integer', JSON.stringify(maxLength));
  }
  return {
    text,
    pair: pair ?? null,
    options: { maxLength, truncation: 'longest_first', padding: 'max_length' },
  };
}

/** Tokenize every line of `input`, writing one JSON line per input to `output`. */
export async function tokenizeLines(
  tokenizer: LxmertTokenizer,
  input: NodeJS.ReadableStream,
  output: Writable,
): Promise<void> {
  const out = new LineWriter(output);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const { text, pair, options } = parseLine(line, lineNo);
      let enc;
      try {
        enc = tokenizer.encode(text, pair, options);
      } catch (e) {
        if (e instanceof TokenizerError)
          throw new TokenizerError(`stdin line ${lineNo}: ${e.message}`);
        throw e;
      }
      const json = `{"input_ids":[${enc.inputIds.join(',')}],"token_type_ids":[${enc.tokenTypeIds.join(',')}],"attention_mask":[${enc.attentionMask.join(',')}]}\n`;
      if (!(await out.write(json))) break;
    }
  } finally {
    lines.close();
  }
  await out.end();
}

/** Buffered writes with back-pressure; a closed pipe (EPIPE) just stops the output. */
class LineWriter {
  private buffer: string[] = [];
  private size = 0;
  private closed = false;
  private error: Error | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true;
      else this.error = e;
    });
  }

  /** Returns false once the reader has gone away. */
  async write(s: string): Promise<boolean> {
    this.buffer.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) await this.flush();
    return !this.closed;
  }

  async end(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed || this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          for (const ev of ['drain', 'close', 'error']) this.stream.off(ev, done);
          resolve();
        };
        for (const ev of ['drain', 'close', 'error']) this.stream.on(ev, done);
      });
    }
    if (this.error) throw this.error;
  }
}
