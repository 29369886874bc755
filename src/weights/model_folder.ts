/**
 * Node: writing a converted model folder (shards, model.json, side files) for both converters
 * (LXMERT: converter.ts, the detector: detector_converter.ts) so that OUTDIR is either left
 * as it was or complete. Everything goes into a temporary folder beside OUTDIR, created
 * exclusively (a planted file or link of that name makes it fail), which replaces OUTDIR (absent
 * or empty) by a rename at the end; on an error, SIGINT or SIGTERM it is removed.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { kindOf, sha256Bytes, sha256File, sizeOf } from './fs_util.js';
import type { HubSnapshot } from './hub.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  weightByteLength,
  type LxmertManifest,
  type ManifestFile,
  type ManifestSource,
  type ManifestWeight,
} from './manifest.js';
import { ShardWriter } from './shard_writer.js';

export const CONVERTER_VERSION = '0.1.0';

/** The manifest's fields that depend on the model (the rest are the format's or the shards'). */
export type ManifestFields = Omit<
  LxmertManifest,
  'format' | 'version' | 'modelTopology' | 'weightsManifest' | 'shards' | 'converter'
>;

export interface FolderContents {
  /** The manifest's weights, in shard order. */
  weights: ManifestWeight[];
  /** The bytes stored for `weights[i]`, encoded as its manifest entry says. */
  encode(i: number): Promise<Uint8Array>;
  /** Bytes per shard. */
  shardSize: number;
  /**
   * The model's manifest fields, asked once the shards are written; `addFile` writes a side file
   * (vocab.txt, labels.json) into the folder and returns its manifest entry.
   */
  describe(
    addFile: (name: string, bytes: Uint8Array) => Promise<ManifestFile>,
  ): Promise<ManifestFields>;
}

/** Write `contents` as the model folder `outDir` (absent or an empty folder; checked before). */
export async function writeModelFolder(
  outDir: string,
  contents: FolderContents,
): Promise<{ manifest: LxmertManifest; bytes: number }> {
  const { weights } = contents;
  const total = weights.reduce((a, w) => a + weightByteLength(w), 0);
  const tmp = join(
    dirname(outDir),
    `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const onSignal = (sig: NodeJS.Signals) => {
    rmSync(tmp, { recursive: true, force: true });
    process.kill(process.pid, sig);
  };
  let writer: ShardWriter | undefined;
  try {
    await mkdir(tmp); // fails if anything (a planted link included) has the name
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    writer = new ShardWriter(tmp, total, contents.shardSize);
    for (let i = 0; i < weights.length; i++) await writer.write(await contents.encode(i));
    const shards = await writer.finish();
    const fields = await contents.describe(async (name, bytes) => {
      await writeFile(join(tmp, name), bytes, { flag: 'wx' });
      return { path: name, bytes: bytes.byteLength, sha256: sha256Bytes(bytes) };
    });
    const { architecture, dtype, config, tiedWeights, source, ...files } = fields;
    const manifest: LxmertManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      modelTopology: null,
      weightsManifest: [{ paths: shards.map((s) => s.path), weights }],
      architecture,
      dtype,
      config,
      shards,
      tiedWeights,
      source,
      converter: { name: 'lxmert-web', version: CONVERTER_VERSION },
      ...files, // vocab, labels
    };
    await writeFile(join(tmp, MANIFEST_FILE), formatManifest(manifest), { flag: 'wx' });
    if ((await kindOf(outDir)) === 'dir') await rmdir(outDir);
    await rename(tmp, outDir);
    return { manifest, bytes: total };
  } catch (e) {
    await writer?.abort();
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Indented JSON with number arrays (shapes) kept on one line. */
export function formatManifest(m: LxmertManifest): string {
  const text = JSON.stringify(m, null, 1).replace(
    /\[\s*(-?\d[\d.e+-]*(?:,\s*-?\d[\d.e+-]*)*)\s*\]/g,
    (_, nums: string) => `[${nums.split(/,\s*/).join(', ')}]`,
  );
  return text + '\n';
}

/** The manifest's `source`: the files read (size, sha256) and where the folder came from. */
export async function describeSource(
  dir: string,
  files: string[],
  hub?: HubSnapshot,
): Promise<ManifestSource> {
  const described: ManifestFile[] = [];
  for (const f of files) {
    const p = join(dir, f);
    described.push({ path: f, bytes: (await sizeOf(p)) ?? 0, sha256: await sha256File(p) });
  }
  if (hub) {
    const s: ManifestSource = {
      kind: 'hub',
      endpoint: hub.endpoint,
      repo: hub.repo,
      revision: hub.revision,
      files: described,
    };
    if (hub.commit) s.commit = hub.commit;
    return s;
  }
  return { kind: 'local', path: resolve(dir), files: described };
}
