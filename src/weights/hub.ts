/**
 * Node: download a model from the Hugging Face Hub (or a mirror) into a local cache folder.
 *
 * URL layout `{endpoint}/{repo}/resolve/{revision}/{file}`, as huggingface_hub's `hf_hub_url`.
 * The Hub answers small files directly and large (LFS) files with a 302 to a CDN, sending
 * `X-Repo-Commit` (the commit the revision resolved to) and `X-Linked-Etag` / `X-Linked-Size`
 * (the LFS file's sha256 and size) on that first response; renamed repos answer 307 with a
 * relative Location. Redirects are followed here by hand so the `Authorization: Bearer
 * $HF_TOKEN` header only goes to the endpoint's own origin. Downloads land in
 * `<file>.incomplete` and are resumed with `Range: bytes=N-` after an interruption; files
 * whose etag is a sha256 are verified before they are renamed into place.
 *
 * Cache layout: `<cacheDir>/models--<org>--<name>/snapshots/<commit or revision>/<file>`.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { WeightsError } from '../errors.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';
import { sha256File, sizeOf } from './fs_util.js';
import type { ProgressCallback } from './progress.js';
import { parseIndex, weightFileOrder, type WeightsFramework } from './reader.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions {
  /** Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  /** Default `$HF_TOKEN` (or `$HUGGING_FACE_HUB_TOKEN`). */
  token?: string;
  /** Default `$LXMERT_CACHE` or `~/.cache/lxmert-web/hub`. */
  cacheDir?: string;
  onProgress?: ProgressCallback;
  /** Attempts per file when a transfer breaks off (default 5). */
  retries?: number;
  fetch?: typeof fetch;
  /**
   * Which weights to download when the repo has PyTorch and TF ones: 'pt' (default) tries
   * model.safetensors … pytorch_model.bin.index.json first, 'tf' tf_model.h5 and its index.
   */
  from?: WeightsFramework;
  /**
   * Config files to look for, in order; the first the repo has is downloaded (default
   * `['config.json']`; the converter adds `config.yaml`, a detector's config).
   */
  configFiles?: readonly string[];
}

export interface HubSnapshot {
  /** Local folder with config.json, the weights and vocab.txt when the repo has one. */
  dir: string;
  endpoint: string;
  repo: string;
  revision: string;
  /** The commit the revision resolved to (X-Repo-Commit), when the server said. */
  commit?: string;
  /** Weight files (relative to dir) in the order the converter reads them. */
  files: string[];
}

/** A Hub model id: `name` or `org/name`. */
export function isHubId(s: string): boolean {
  return /^[\w][\w.-]{0,95}(\/[\w][\w.-]{0,95})?$/.test(s) && !s.includes('..');
}

function hubError(status: number, headers: Headers, what: string): WeightsError {
  const code = headers.get('x-error-code');
  const msg = headers.get('x-error-message');
  const detail = [code, msg].filter(Boolean).join(': ');
  if (status === 401 || status === 403) {
    return new WeightsError(
      `HTTP ${status}${detail ? ` (${detail})` : ''}: the repository is private, gated or does not exist; ` +
        'set HF_TOKEN to a token with access',
      what,
    );
  }
  return new WeightsError(`HTTP ${status}${detail ? ` (${detail})` : ''}`, what);
}

interface Context {
  endpoint: string;
  token?: string;
  fetch: typeof fetch;
  retries: number;
  onProgress?: ProgressCallback;
}

/** GET following redirects by hand; the first response's headers are kept. */
async function get(ctx: Context, url: string, extra: Record<string, string>, what: string) {
  const origin = new URL(ctx.endpoint).origin;
  let current = new URL(url);
  let first: Headers | undefined;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'lxmert-web', ...extra };
    if (ctx.token && current.origin === origin) headers.authorization = `Bearer ${ctx.token}`;
    let res: Response;
    try {
      res = await ctx.fetch(current, { headers, redirect: 'manual' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new WeightsError(
        `cannot reach ${current.origin} (${cause?.code ?? cause?.message ?? (e as Error).message})`,
        what,
      );
    }
    first ??= res.headers;
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      current = new URL(res.headers.get('location')!, current);
      continue;
    }
    return { res, first };
  }
  throw new WeightsError('more than 10 redirects', what);
}

/**
 * Download one file to `dest` (skipped when it exists). Returns false when the server says
 * 404 (the file is not in the repo), the response's commit header otherwise. The transfer
 * stops as soon as more bytes arrive than announced (Content-Length, Content-Range or
 * X-Linked-Size) or than `maxBytes`, and the partial file is removed.
 */
export async function downloadFile(
  ctx: Context,
  url: string,
  dest: string,
  name: string,
  maxBytes?: { bytes: number; limit: string },
): Promise<{ found: false } | { found: true; commit?: string }> {
  if ((await sizeOf(dest)) !== undefined) return { found: true };
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.incomplete`;
  let failures = 0;
  let commit: string | undefined;
  let sha: string | undefined;
  let announced = false;
  for (;;) {
    const have = (await sizeOf(partial)) ?? 0;
    const range: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    const { res, first } = await get(
      ctx,
      url,
      { 'accept-encoding': 'identity', ...range },
      `${url}`,
    );
    commit ??= first.get('x-repo-commit') ?? undefined;
    const etag = (first.get('x-linked-etag') ?? first.get('etag') ?? '')
      .replace(/^W\//, '')
      .replace(/"/g, '');
    if (/^[0-9a-f]{64}$/.test(etag)) sha = etag;
    if (res.status === 404 && have === 0) {
      await res.body?.cancel();
      return { found: false };
    }
    let offset = 0;
    let total: number | undefined;
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        await res.body?.cancel();
        await rm(partial, { force: true });
        continue;
      }
      offset = have;
      total = m[2] === '*' ? undefined : Number(m[2]);
    } else if (res.status === 416) {
      await res.body?.cancel();
      const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === have) break;
      await rm(partial, { force: true });
      continue;
    } else if (res.status === 200) {
      // Content-Length counts encoded bytes: it bounds the body only when nothing is decoded.
      const enc = res.headers.get('content-encoding');
      const len = enc && enc !== 'identity' ? null : res.headers.get('content-length');
      total = len === null || !/^\d+$/.test(len) ? undefined : Number(len);
    } else {
      await res.body?.cancel();
      throw hubError(res.status, res.headers, `${url}`);
    }
    const linked = Number(first.get('x-linked-size') ?? NaN);
    // Every announcement bounds the transfer: the smallest one wins.
    if (Number.isSafeInteger(linked))
      total = total === undefined ? linked : Math.min(total, linked);
    if (maxBytes && total !== undefined && total > maxBytes.bytes) {
      await res.body?.cancel();
      throw new WeightsError(
        `announced ${total} bytes, more than the ${maxBytes.bytes} allowed (limit ${maxBytes.limit})`,
        url,
      );
    }
    const cap = Math.min(total ?? Infinity, maxBytes?.bytes ?? Infinity);
    // Never through a link planted at the partial file's name.
    const { O_WRONLY, O_CREAT, O_APPEND, O_TRUNC, O_NOFOLLOW } = constants;
    const fh = await open(
      partial,
      O_WRONLY | O_CREAT | O_NOFOLLOW | (offset > 0 ? O_APPEND : O_TRUNC),
    );
    let loaded = offset;
    if (!announced) {
      ctx.onProgress?.({ status: 'initiate', file: name, loaded: 0, total });
      announced = true;
    }
    ctx.onProgress?.({ status: 'download', file: name, loaded, total });
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          if (loaded + chunk.byteLength > cap) {
            await fh.close().catch(() => undefined);
            await rm(partial, { force: true });
            throw new WeightsError(
              total !== undefined && cap === total
                ? `the server sent more than the ${total} bytes it announced; stopped and removed the download`
                : `more than the ${cap} bytes allowed (limit ${maxBytes?.limit}); stopped and removed the download`,
              url,
            );
          }
          await fh.write(chunk);
          loaded += chunk.byteLength;
          ctx.onProgress?.({ status: 'progress', file: name, loaded, total });
        }
      }
      await fh.close();
      if (total !== undefined && loaded !== total)
        throw new Error(`got ${loaded} of ${total} bytes`);
      break;
    } catch (e) {
      if (e instanceof WeightsError) throw e; // a refusal, not a broken transfer
      await fh.close().catch(() => undefined);
      if (++failures >= ctx.retries) {
        throw new WeightsError(
          `download failed after ${failures} attempts (${(e as Error).message})`,
          url,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures, 5000)));
    }
  }
  const bytes = (await sizeOf(partial)) ?? 0;
  if (sha && (await sha256File(partial)) !== sha) {
    await rm(partial, { force: true });
    throw new WeightsError(
      `sha256 differs from the server's etag ${sha}; removed the download`,
      url,
    );
  }
  await rename(partial, dest);
  ctx.onProgress?.({ status: 'done', file: name, loaded: bytes, total: bytes });
  return { found: true, commit };
}

/** Download config.json, the weights (any supported layout) and vocab.txt of a Hub model. */
export async function downloadModel(repo: string, opts: HubOptions = {}): Promise<HubSnapshot> {
  if (!isHubId(repo)) throw new WeightsError('not a Hub model id (org/name)', repo);
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(
    /\/+$/,
    '',
  );
  try {
    if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error('not http(s)');
  } catch {
    throw new WeightsError(`endpoint '${endpoint}' is not an http(s) URL`, repo);
  }
  const revision = opts.revision ?? 'main';
  if (!/^[\w][\w./-]*$/.test(revision) || revision.includes('..')) {
    throw new WeightsError(`revision '${revision}' is not a branch, tag or commit`, repo);
  }
  const ctx: Context = {
    endpoint,
    token: opts.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN,
    fetch: opts.fetch ?? globalThis.fetch,
    retries: opts.retries ?? 5,
    onProgress: opts.onProgress,
  };
  const cacheRoot =
    opts.cacheDir ?? process.env.LXMERT_CACHE ?? join(homedir(), '.cache', 'lxmert-web', 'hub');
  const url = (rev: string, file: string) =>
    `${endpoint}/${repo}/resolve/${encodeURIComponent(rev)}/${file}`;
  const where = `${repo}@${revision}`;

  // The config first: small, required, and it tells which commit the revision is.
  const configFiles = opts.configFiles ?? ['config.json'];
  let configName = configFiles[0];
  const head = { 'accept-encoding': 'identity' };
  let { res, first } = await get(ctx, url(revision, configName), head, where);
  for (const next of configFiles.slice(1)) {
    if (res.status !== 404) break;
    await res.body?.cancel();
    configName = next;
    ({ res, first } = await get(ctx, url(revision, configName), head, where));
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    if (res.status === 404)
      throw new WeightsError(
        `${configFiles.join(' or ')} not found (is ${where} an LXMERT model?)`,
        `${endpoint}/${repo}`,
      );
    throw hubError(res.status, res.headers, `${endpoint}/${repo}`);
  }
  const config = await readCapped(
    res,
    limits().maxConfigBytes,
    'maxConfigBytes',
    url(revision, 'config.json'),
  );
  const commitHeader = first.get('x-repo-commit');
  const commit = commitHeader && /^[0-9a-f]{40}$/.test(commitHeader) ? commitHeader : undefined;
  const snap = commit ?? revision.replace(/\//g, '--');
  const dir = join(cacheRoot, `models--${repo.replace(/\//g, '--')}`, 'snapshots', snap);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, configName), config, {
    flag: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
  });
  const rev = commit ?? revision;

  const files: string[] = [];
  const order = weightFileOrder(opts.from);
  for (const f of order) {
    const small = f.endsWith('.index.json')
      ? { bytes: limits().maxIndexBytes, limit: 'maxIndexBytes' }
      : undefined;
    const got = await downloadFile(ctx, url(rev, f), join(dir, f), f, small);
    if (!got.found) continue;
    files.push(f);
    if (f.endsWith('.index.json')) {
      const text = await readTextFile(join(dir, f), {
        maxBytes: limits().maxIndexBytes,
        limitName: 'maxIndexBytes',
      });
      const index = parseIndex(text, `${where}: ${f}`);
      for (const shard of new Set(index.values())) {
        const s = await downloadFile(ctx, url(rev, shard), join(dir, shard), shard);
        if (!s.found)
          throw new WeightsError(`shard '${shard}' named by ${f} is not in the repo`, where);
        files.push(shard);
      }
    }
    break;
  }
  if (!files.length)
    throw new WeightsError(`no weights in the repo (looked for ${order.join(', ')})`, where);
  await downloadFile(ctx, url(rev, 'vocab.txt'), join(dir, 'vocab.txt'), 'vocab.txt', {
    bytes: limits().maxVocabBytes,
    limit: 'maxVocabBytes',
  });
  ctx.onProgress?.({ status: 'ready', file: repo, loaded: 0, total: undefined });
  return { dir, endpoint, repo, revision, commit, files };
}

/**
 * A response body read into memory, refused (and cancelled) as soon as it passes `max` bytes
 * or its announced Content-Length: an endless body costs at most `max` bytes.
 */
async function readCapped(res: Response, max: number, limit: string, what: string) {
  // Content-Length counts encoded bytes: it bounds the body only when nothing is decoded.
  const encoding = res.headers.get('content-encoding');
  const announced =
    encoding && encoding !== 'identity' ? NaN : Number(res.headers.get('content-length') ?? NaN);
  if (Number.isSafeInteger(announced) && announced > max) {
    await res.body?.cancel();
    throw new WeightsError(
      `announced ${announced} bytes, more than the ${max} allowed (limit ${limit})`,
      what,
    );
  }
  const cap = Number.isSafeInteger(announced) ? announced : max;
  const chunks: Uint8Array[] = [];
  let n = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > cap) {
        await reader.cancel();
        throw new WeightsError(
          cap === announced
            ? `the server sent more than the ${announced} bytes it announced; stopped`
            : `more than the ${max} bytes allowed (limit ${limit}); stopped`,
          what,
        );
      }
      chunks.push(value);
    }
  }
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}
