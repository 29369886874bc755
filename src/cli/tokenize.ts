/**
 * `lxmert tokenize (--vocab FILE | --model DIR)`: JSON lines `{"text", "text_pair"?, "max_length"?}`
 * on stdin → one JSON line `{"input_ids", "token_type_ids", "attention_mask"}` per input on stdout.
 */
import { lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError, TokenizerError, UsageError } from '../errors.js';
import { limits } from '../limits.js';
import { loadTokenizer } from '../tokenizer/node.js';
import type { EncodeOptions, LxmertTokenizer } from '../tokenizer/index.js';
import { readConfigJson } from '../weights/config_file.js';
import { parseOptions } from './args.js';

const HELP = `usage: lxmert tokenize (--vocab FILE | --model DIR) < questions.jsonl

Tokenize with LxmertTokenizer (BERT WordPiece, uncased; identical to Hugging Face's
BertTokenizer). Reads JSON lines from stdin, one object per line (blank lines are skipped):

  {"text": "What color is the cat?", "text_pair": "optional", "max_length": 20}

and writes one JSON line per input to stdout:

  {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}

With "max_length", the input is truncated ('longest_first') and padded with [PAD] to exactly
max_length tokens, special tokens included; an input that cannot be truncated that far is an
error. Without it, nothing is truncated or padded. max_length may not exceed the model's
max_position_embeddings (--model DIR with a config.json), else the tokenizer's
model_max_length (512 by default). Lines must be valid UTF-8 (an invalid byte is an error
naming the line, never silently replaced).

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
  const maxLength = await maxLengthOf(values.model, tokenizer);
  await tokenizeLines(tokenizer, process.stdin, process.stdout, maxLength);
}

/** The largest max_length a line may ask for: the model's max_position_embeddings, if known. */
async function maxLengthOf(
  model: string | boolean | undefined,
  tokenizer: LxmertTokenizer,
): Promise<number> {
  if (typeof model === 'string' && model !== '') {
    let has = true;
    try {
      lstatSync(join(model, 'config.json'));
    } catch {
      has = false;
    }
    if (has) return (await readConfigJson(model)).config.maxPositionEmbeddings;
  }
  return tokenizer.modelMaxLength;
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
  maxAllowed = limits().maxSequenceLength,
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
  if (maxLength > maxAllowed) {
    throw new InputError(
      `${where}: max_length`,
      `at most ${maxAllowed} (the model's max_position_embeddings)`,
      String(maxLength),
    );
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
  maxLength = limits().maxSequenceLength,
): Promise<void> {
  const out = new LineWriter(output);
  let lineNo = 0;
  for await (const line of utf8Lines(input)) {
    lineNo++;
    if (line.trim() === '') continue;
    const { text, pair, options } = parseLine(line, lineNo, maxLength);
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
  await out.end();
}

/**
 * The lines of a byte stream (`\n` or `\r\n`), each decoded as strict UTF-8: an invalid byte
 * is an InputError naming the line, never a silent U+FFFD; a line longer than
 * `limits().maxLineBytes` is refused before it is buffered whole.
 */
export async function* utf8Lines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const max = limits().maxLineBytes;
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let lineNo = 0;
  const finish = (): string => {
    lineNo++;
    let bytes: Uint8Array;
    if (parts.length === 1) bytes = parts[0];
    else {
      bytes = new Uint8Array(partBytes);
      let p = 0;
      for (const part of parts) {
        bytes.set(part, p);
        p += part.byteLength;
      }
    }
    parts = [];
    partBytes = 0;
    if (bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    try {
      return decoder.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      throw new InputError(
        `stdin line ${lineNo}`,
        'UTF-8 text',
        `an invalid byte sequence at byte ${at} (0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')})`,
      );
    }
  };
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.byteLength : nl;
      if (partBytes + end - start > max) {
        throw new InputError(
          `stdin line ${lineNo + 1}`,
          `at most ${max} bytes (limit maxLineBytes)`,
          'a longer line',
        );
      }
      if (end > start) {
        parts.push(buf.subarray(start, end));
        partBytes += end - start;
      }
      if (nl < 0) break;
      yield finish();
      start = nl + 1;
    }
  }
  if (partBytes > 0) yield finish();
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

/** Offset of the first byte that does not start a valid UTF-8 sequence (linear). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= b.length + (n ? 0 : 1)) return i;
    let cp = n ? c & (0x3f >> n) : c;
    for (let k = 1; k <= n; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}
