/**
 * Download progress events and a one-line terminal progress bar (Node). The event type is
 * shared with the browser loader.
 */

/** Progress of one file (`initiate` → `download` → `progress`… → `done`), then `ready` once. */
export type ProgressEvent =
  | { status: 'initiate'; file: string; loaded: 0; total: number | undefined }
  | { status: 'download'; file: string; loaded: number; total: number | undefined }
  | { status: 'progress'; file: string; loaded: number; total: number | undefined }
  | {
      status: 'done';
      file: string;
      loaded: number;
      total: number | undefined;
      /** Read from the cache (no download), when true. */
      cached?: boolean;
    }
  | { status: 'ready'; file: string; loaded: number; total: number | undefined };

export type ProgressCallback = (event: ProgressEvent) => void;

function mb(n: number): string {
  return (n / 1e6).toFixed(n < 1e7 ? 2 : 1);
}

/** Something with `write` and (optionally) `isTTY`, e.g. process.stderr. */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/**
 * A progress bar on `stream`: `file  12.3/856.0 MB  45.6 MB/s`, redrawn at most 10× a second
 * on a TTY (one line per finished file otherwise).
 */
export function progressBar(
  stream: ProgressStream,
  now: () => number = () => Date.now(),
): ProgressCallback {
  let started = 0;
  let startLoaded = 0;
  let last = 0;
  const tty = Boolean(stream.isTTY);
  const line = (e: ProgressEvent): string => {
    const secs = Math.max((now() - started) / 1000, 1e-3);
    const rate = (e.loaded - startLoaded) / secs;
    const total = e.total === undefined ? '?' : mb(e.total);
    return `${e.file}  ${mb(e.loaded)}/${total} MB  ${mb(rate)} MB/s`;
  };
  return (e) => {
    if (e.status === 'initiate' || e.status === 'ready') return;
    if (e.status === 'download') {
      started = now();
      startLoaded = e.loaded;
      last = 0;
      return;
    }
    if (e.status === 'progress') {
      if (!tty || now() - last < 100) return;
      last = now();
      stream.write(`\r\x1b[K${line(e)}`);
      return;
    }
    stream.write(tty ? `\r\x1b[K${line(e)}\n` : `${line(e)}\n`);
  };
}
