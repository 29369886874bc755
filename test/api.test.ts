/** The package's public entry points, as a user imports them (after `npm run build`). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/** Every relative module reachable from `entry` by static imports, with its import specifiers. */
function staticGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const src = readFileSync(file, 'utf8');
    const specs = [
      ...src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm),
    ].map((m) => m[1] ?? m[2]);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) visit(resolve(dirname(file), s));
  };
  visit(entry);
  return seen;
}

describe('public API', () => {
  it("the main entry ('lxmert-web') imports no node: module, so it bundles for browsers", () => {
    const graph = staticGraph(join(ROOT, 'dist', 'src', 'index.js'));
    expect(graph.size).toBeGreaterThan(20);
    const nodeImports = [...graph].flatMap(([f, specs]) =>
      specs
        .filter((s) => s.startsWith('node:') || ['fs', 'path', 'os', 'crypto'].includes(s))
        .map((s) => `${f}: ${s}`),
    );
    expect(nodeImports).toEqual([]);
  });

  it('resolves by package name with the documented exports', async () => {
    const api = await import('lxmert-web');
    for (const name of [
      'LxmertForQuestionAnswering',
      'LxmertForPreTraining',
      'LxmertModel',
      'buildModel',
      'configFromHf',
      'selectBackend',
      'LxmertTokenizer',
      'VqaPipeline',
      'loadConverted',
      'parseObj36Tsv',
      'InputError',
      'setFusedKernels',
      'LxmertVqa',
      'listCached',
    ]) {
      expect(api, name).toHaveProperty(name);
    }
    const node = await import('lxmert-web/node');
    for (const name of [
      'loadCheckpoint',
      'convertCheckpoint',
      'folderSource',
      'loadDefaultTokenizer',
    ]) {
      expect(node, name).toHaveProperty(name);
    }
  });
});
