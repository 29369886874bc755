/**
 * Hub downloads against a local server with the Hub's URL layout (hub_server.ts): redirects
 * to a second origin, Range resumption of a cut transfer and of a leftover `.incomplete`
 * file, the token kept to the endpoint, sha256 checks, caching, errors. No network.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { downloadModel, isHubId } from '../../src/weights/hub.js';
import type { ProgressEvent } from '../../src/weights/progress.js';
import { COMMIT, startFakeHub, type FakeHub } from './hub_server.js';
import { FIXTURES, tempDir } from './helpers.js';

const tmp = tempDir('hub');
const TINY = join(FIXTURES, 'lxmert-tiny');
const VQA = join(FIXTURES, 'lxmert-vqa-tiny');
let hub: FakeHub;

beforeAll(async () => {
  hub = await startFakeHub(
    {
      'org/tiny': {
        'config.json': join(TINY, 'config.json'),
        'pytorch_model.bin': join(TINY, 'pytorch_model.bin'),
      },
      'org/vqa': {
        'config.json': join(VQA, 'config.json'),
        'model.safetensors': join(VQA, 'model.safetensors'),
        'vocab.txt': join(VQA, 'vocab.txt'),
      },
      'org/noconfig': { 'model.safetensors': join(TINY, 'model.safetensors') },
      'org/tampered': {
        'config.json': join(TINY, 'config.json'),
        'model.safetensors': join(TINY, 'model.safetensors'),
      },
    },
    { 'old-org/tiny': 'org/tiny' },
  );
  hub.tamper.set(
    'org/tampered/model.safetensors',
    new Uint8Array(readFileSync(join(TINY, 'model.safetensors')).length),
  );
});
afterAll(() => hub.close());

const snapshot = (cache: string, repo: string) =>
  join(cache, `models--${repo.replace('/', '--')}`, 'snapshots', COMMIT);

describe('Hub download', () => {
  it('recognises model ids', () => {
    expect(isHubId('unc-nlp/lxmert-vqa-uncased')).toBe(true);
    expect(isHubId('bert-base-uncased')).toBe(true);
    for (const s of ['./x', '/abs/x', 'a/b/c', '../x', 'a/..', ''])
      expect(isHubId(s), s).toBe(false);
  });

  it('follows the redirect to the file host, resumes the cut transfer, keeps the token home', async () => {
    const cache = join(tmp, 'c1');
    const events: ProgressEvent[] = [];
    const before = hub.log.length;
    const snap = await downloadModel('org/tiny', {
      endpoint: hub.endpoint,
      cacheDir: cache,
      token: 'hf_secret',
      onProgress: (e) => events.push(e),
    });
    expect(snap.commit).toBe(COMMIT);
    expect(snap.dir).toBe(snapshot(cache, 'org/tiny'));
    expect(snap.files).toEqual(['pytorch_model.bin']);
    expect(
      readFileSync(join(snap.dir, 'pytorch_model.bin')).equals(
        readFileSync(join(TINY, 'pytorch_model.bin')),
      ),
    ).toBe(true);
    expect(existsSync(join(snap.dir, 'pytorch_model.bin.incomplete'))).toBe(false);
    const log = hub.log.slice(before);
    const cdn = log.filter((r) => r.origin === 'cdn');
    expect(cdn.length).toBe(2);
    expect(cdn[0].range).toBeUndefined();
    expect(cdn[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(cdn[1].range!)![0])).toBeGreaterThan(0);
    expect(cdn.every((r) => r.authorization === undefined)).toBe(true);
    expect(
      log.filter((r) => r.origin === 'hub').every((r) => r.authorization === 'Bearer hf_secret'),
    ).toBe(true);
    // Revision resolved to the commit for every file after config.json.
    expect(
      log
        .filter((r) => r.origin === 'hub')
        .slice(1)
        .every((r) => r.url.includes(`/resolve/${COMMIT}/`)),
    ).toBe(true);
    const statuses = events.filter((e) => e.file === 'pytorch_model.bin').map((e) => e.status);
    expect(statuses[0]).toBe('initiate');
    expect(statuses.filter((s) => s === 'download').length).toBe(2);
    expect(statuses.at(-1)).toBe('done');
    expect(events.at(-1)!.status).toBe('ready');

    // Second time: served from the cache, no file host request.
    const n = hub.log.length;
    await downloadModel('org/tiny', { endpoint: hub.endpoint, cacheDir: cache });
    expect(hub.log.slice(n).filter((r) => r.origin === 'cdn')).toEqual([]);
  });

  it('resumes a leftover .incomplete file with a Range request', async () => {
    const cache = join(tmp, 'c2');
    const dir = snapshot(cache, 'org/vqa');
    mkdirSync(dir, { recursive: true });
    const full = readFileSync(join(VQA, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors.incomplete'), full.subarray(0, 1_000_000));
    const n = hub.log.length;
    const snap = await downloadModel('org/vqa', { endpoint: hub.endpoint, cacheDir: cache });
    const cdn = hub.log.slice(n).filter((r) => r.origin === 'cdn');
    expect(cdn[0].range).toBe('bytes=1000000-');
    expect(readFileSync(join(snap.dir, 'model.safetensors')).equals(full)).toBe(true);
    expect(readFileSync(join(snap.dir, 'vocab.txt'), 'utf8')).toBe(
      readFileSync(join(VQA, 'vocab.txt'), 'utf8'),
    );
  });

  it('follows a renamed repo (relative 307)', async () => {
    const snap = await downloadModel('old-org/tiny', {
      endpoint: hub.endpoint,
      cacheDir: join(tmp, 'c3'),
    });
    expect(snap.files).toEqual(['pytorch_model.bin']);
  });

  it('refuses a file whose sha256 differs from the etag', async () => {
    const cache = join(tmp, 'c4');
    await expect(
      downloadModel('org/tampered', { endpoint: hub.endpoint, cacheDir: cache }),
    ).rejects.toThrow(/sha256 differs from the server's etag/);
    expect(existsSync(join(snapshot(cache, 'org/tampered'), 'model.safetensors.incomplete'))).toBe(
      false,
    );
  });

  it('explains 401 and 404, and an unreachable endpoint', async () => {
    const opts = { endpoint: hub.endpoint, cacheDir: join(tmp, 'c5') };
    await expect(downloadModel('org/missing', opts)).rejects.toThrow(
      /HTTP 401 \(RepoNotFound: Repository not found\).*HF_TOKEN/,
    );
    await expect(downloadModel('org/noconfig', opts)).rejects.toThrow(/config\.json not found/);
    await expect(
      downloadModel('org/tiny', { ...opts, endpoint: 'http://127.0.0.1:9' }),
    ).rejects.toThrow(/cannot reach/);
    await expect(downloadModel('org/tiny', { ...opts, endpoint: 'ftp://x' })).rejects.toThrow(
      /not an http\(s\) URL/,
    );
  });

  it('convert from a Hub id records the repo, revision and commit', async () => {
    const out = join(tmp, 'out-hub');
    const r = await convertCheckpoint('org/vqa', out, {
      endpoint: hub.endpoint,
      cacheDir: join(tmp, 'c6'),
      dtype: 'float16',
    });
    expect(r.manifest.source).toMatchObject({
      kind: 'hub',
      repo: 'org/vqa',
      revision: 'main',
      commit: COMMIT,
    });
    expect(r.manifest.labels?.count).toBe(3129);
    expect(r.manifest.vocab).toBeDefined();
  });
});
