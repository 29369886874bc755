/**
 * A local stand-in for the Hugging Face Hub (127.0.0.1, port 0) with the Hub's URL layout and
 * responses, plus a second origin playing the CDN: `/{repo}/resolve/{rev}/{file}` answers
 * small files directly and weight files with a 302 to the CDN (X-Repo-Commit, X-Linked-Etag,
 * X-Linked-Size), renamed repos with a relative 307, unknown repos with 401 and unknown files
 * with 404 (X-Error-Code). The CDN honours Range and cuts the first full transfer of each
 * large file half-way, so clients must resume.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestLog {
  origin: 'hub' | 'cdn';
  url: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  endpoint: string;
  log: RequestLog[];
  /** How many transfers were cut. */
  cuts: number;
  /** Serve these bytes instead of the real ones for `repo/file` (sha mismatch tests). */
  tamper: Map<string, Uint8Array>;
  close(): Promise<void>;
}

export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const listen = (s: Server) =>
  new Promise<string>((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`),
    ),
  );

/** repos: repo id → {file name → local path}. `renamed`: old id → new id. */
export async function startFakeHub(
  repos: Record<string, Record<string, string>>,
  renamed: Record<string, string> = {},
): Promise<FakeHub> {
  const log: RequestLog[] = [];
  const tamper = new Map<string, Uint8Array>();
  const blobs = new Map<string, Uint8Array>();
  const cut = new Set<string>();
  const state = { cuts: 0 };
  const record = (origin: 'hub' | 'cdn', req: IncomingMessage) =>
    log.push({
      origin,
      url: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
    });

  const cdn = createServer((req: IncomingMessage, res: ServerResponse) => {
    record('cdn', req);
    const sha = (req.url ?? '').split('/').pop()!.split('?')[0];
    const body = blobs.get(sha);
    if (!body) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'content-length': body.length - start,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    if (body.length > 100_000 && !cut.has(sha)) {
      // An interrupted transfer: half the bytes, then the connection drops.
      cut.add(sha);
      state.cuts++;
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  });
  const cdnOrigin = await listen(cdn);

  const hub = createServer((req: IncomingMessage, res: ServerResponse) => {
    record('hub', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(.+)\/resolve\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, repo, , file] = m;
    if (renamed[repo]) {
      res.writeHead(307, { location: `/${renamed[repo]}/resolve/${m[2]}/${file}` }).end();
      return;
    }
    const files = repos[repo];
    if (!files) {
      res
        .writeHead(401, {
          'x-error-code': 'RepoNotFound',
          'x-error-message': 'Repository not found',
        })
        .end();
      return;
    }
    const path = files[file];
    if (!path) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': COMMIT }).end();
      return;
    }
    const body = new Uint8Array(readFileSync(path));
    const isLfs = /\.(bin|safetensors)$/.test(file);
    if (!isLfs) {
      res.writeHead(200, {
        'x-repo-commit': COMMIT,
        etag: '"abc123"',
        'content-length': body.length,
      });
      res.end(body);
      return;
    }
    const sha = createHash('sha256').update(body).digest('hex');
    blobs.set(sha, tamper.get(`${repo}/${file}`) ?? body);
    res.writeHead(302, {
      location: `${cdnOrigin}/repos/${sha}?download=true`,
      'x-repo-commit': COMMIT,
      'x-linked-etag': `"${sha}"`,
      'x-linked-size': body.length,
      etag: '"git-blob-id"',
    });
    res.end();
  });
  const endpoint = await listen(hub);
  return {
    endpoint,
    log,
    get cuts() {
      return state.cuts;
    },
    tamper,
    close: async () => {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
