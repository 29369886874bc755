/**
 * Files of a converted model over fetch: each read streams the body, stops the moment more bytes
 * arrive than model.json announces, refuses an HTML page or a length that differs from the
 * manifest's, and retries a network error, a 5xx or a stalled body with backoff before a
 * WeightsError naming the URL. Browser-safe.
 */
import { WeightsError } from '../errors.js';

/** Reads one file of the model; reports bytes as they arrive. */
export type FileReader = (
  path: string,
  onBytes: (loaded: number) => void,
  /** The size model.json gives, when known: more bytes than this is an error. */
  expectedBytes?: number,
  signal?: AbortSignal,
) => Promise<Uint8Array>;

export interface FetchReaderOptions {
  /** Tries per file (network errors, 5xx, stalls): default 3. */
  tries?: number;
  /** First backoff delay; doubled after each failed try (default 250 ms). */
  retryDelayMs?: number;
  /** A try fails when no byte arrives for this long (default 30 s). */
  stallTimeoutMs?: number;
}

/** The most a file of unknown size (model.json) may hold. */
export const MAX_UNSIZED_BYTES = 64 << 20;

/** A failure worth another try (network, 5xx, stall), as opposed to a wrong file. */
class Transient extends Error {}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The load was aborted', 'AbortError');
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const HTML_START = /^\s*<(!doctype html|html|head|body|!--)/i;

function looksLikeHtml(contentType: string | null, first: Uint8Array): boolean {
  if (contentType && /^text\/html\b/i.test(contentType)) return true;
  const head = new TextDecoder().decode(first.subarray(0, 64));
  return HTML_START.test(head);
}

/** One try: the body of `url`, at most `expected` bytes. */
async function readOnce(
  url: URL,
  fetchFn: typeof fetch,
  onBytes: (loaded: number) => void,
  expected: number | undefined,
  signal: AbortSignal | undefined,
  stallMs: number,
): Promise<Uint8Array> {
  // A stall timer aborts this try's fetch; the caller's signal aborts everything.
  const local = new AbortController();
  const onAbort = () => local.abort(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      local.abort(new DOMException('stalled', 'TimeoutError'));
    }, stallMs);
  };
  try {
    arm();
    let res: Response;
    try {
      // A file of known size (a shard: model.json gives its size and sha256) bypasses the
      // HTTP cache: the loader's content-addressed store is the cache, and `cache: false`
      // means none; writing 100s of MB into the browser's disk cache as well costs its network
      // service about as much CPU again as receiving them.
      res = await fetchFn(url, {
        signal: local.signal,
        ...(expected !== undefined ? { cache: 'no-store' as const } : {}),
      });
    } catch (e) {
      if (aborted(signal)) throw abortReason(signal!);
      if (stalled) throw new Transient(`no response within ${stallMs} ms`);
      throw new Transient(`cannot fetch (${(e as Error).message})`);
    }
    if (res.status >= 500) throw new Transient(`HTTP ${res.status} ${res.statusText}`.trim());
    if (!res.ok) throw new WeightsError(`HTTP ${res.status} ${res.statusText}`.trim(), url.href);
    const announced = res.headers.get('content-length');
    const encoded = res.headers.get('content-encoding');
    if (
      expected !== undefined &&
      announced !== null &&
      !encoded &&
      Number(announced) !== expected &&
      !looksLikeHtml(res.headers.get('content-type'), new Uint8Array())
    ) {
      await res.body?.cancel();
      throw new WeightsError(
        `the server sends ${announced} bytes, model.json says ${expected} (a different file?)`,
        url.href,
      );
    }
    const cap = expected ?? MAX_UNSIZED_BYTES;
    let loaded = 0;
    const body = res.body!;
    const lost = (e: unknown) => {
      if (aborted(signal)) return abortReason(signal!);
      if (stalled) return new Transient(`stalled: no bytes for ${stallMs} ms at ${loaded} bytes`);
      return new Transient(`connection lost at ${loaded} bytes (${(e as Error).message})`);
    };
    const tooMany = () =>
      new WeightsError(
        expected !== undefined
          ? `more than the ${expected} bytes model.json announces arrived; stopped reading`
          : `more than ${cap} bytes; stopped reading`,
        url.href,
      );
    const notHtml = async (first: Uint8Array, cancel: () => Promise<void>) => {
      if (expected !== undefined && looksLikeHtml(res.headers.get('content-type'), first)) {
        await cancel();
        throw new WeightsError(
          'the server sent an HTML page instead of the file (a missing file behind a ' +
            'single-page-app fallback?)',
          url.href,
        );
      }
    };
    let buf: Uint8Array;
    const byob = expected !== undefined ? byobReader(body) : null;
    if (byob) {
      // Bytes read straight into the file's buffer (model.json's size, one byte over so that a
      // longer body shows at once): no chunk is allocated or copied again.
      let space: ArrayBuffer = new ArrayBuffer(cap + 1);
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
        try {
          chunk = await byob.read(new Uint8Array(space, loaded, space.byteLength - loaded));
        } catch (e) {
          throw lost(e);
        }
        if (chunk.value) space = chunk.value.buffer; // the view's buffer, transferred back
        if (chunk.done) break;
        arm();
        const n = chunk.value.byteLength;
        if (loaded === 0 && n > 0) await notHtml(chunk.value, () => byob.cancel());
        loaded += n;
        if (loaded > cap) {
          // Stop reading at once: a server that sends more than announced gets no more memory.
          await byob.cancel();
          throw tooMany();
        }
        onBytes(loaded);
      }
      buf = new Uint8Array(space, 0, loaded);
    } else {
      // The buffer grows with the bytes that actually came (never to more than model.json's
      // size): an untrusted size is never allocated up front.
      buf = new Uint8Array(Math.min(cap, Number(announced) || 1 << 16));
      const reader = body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw lost(e);
        }
        if (chunk.done) break;
        arm();
        const value = chunk.value;
        if (loaded === 0) await notHtml(value, () => reader.cancel());
        if (loaded + value.byteLength > cap) {
          // Stop reading at once: a server that sends more than announced gets no more memory.
          await reader.cancel();
          throw tooMany();
        }
        if (loaded + value.byteLength > buf.byteLength) {
          const want = Math.max(buf.byteLength * 2, loaded + value.byteLength);
          const bigger = new Uint8Array(Math.min(cap, want));
          bigger.set(buf.subarray(0, loaded));
          buf = bigger;
        }
        buf.set(value, loaded);
        loaded += value.byteLength;
        onBytes(loaded);
      }
    }
    if (expected !== undefined && loaded !== expected) {
      throw new WeightsError(`${loaded} bytes, model.json says ${expected}`, url.href);
    }
    return buf.subarray(0, loaded);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A BYOB reader on `body` when it is a byte stream (Chromium's and Node's fetch), else null. */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return body.getReader({ mode: 'byob' });
  } catch {
    return null; // not a byte stream: the default reader below
  }
}

/** A reader over fetch, relative to `base` (a folder URL ending in '/'). */
export function fetchReader(
  base: URL,
  fetchFn: typeof fetch = globalThis.fetch,
  options: FetchReaderOptions = {},
): FileReader {
  const tries = options.tries ?? 3;
  const delay = options.retryDelayMs ?? 250;
  const stallMs = options.stallTimeoutMs ?? 30_000;
  return async (path, onBytes, expected, signal) => {
    const url = new URL(path, base);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      try {
        return await readOnce(url, fetchFn, onBytes, expected, signal, stallMs);
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= tries) {
          throw new WeightsError(`${e.message}; gave up after ${tries} tries`, url.href);
        }
        await sleep(delay * 2 ** (attempt - 1), signal);
      }
    }
  };
}
