/** The browser half of the weights code (loader, manifest, encodings) imports no node: module. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}

it('loader.ts, pickle.ts and torch_pickle.ts reach no node: imports', () => {
  const seen = new Set<string>();
  const bad: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of imports(file)) {
      if (spec.startsWith('node:') || !spec.startsWith('.')) {
        if (spec.startsWith('node:')) bad.push(`${file}: ${spec}`);
        continue;
      }
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  for (const f of ['loader.ts', 'pickle.ts', 'torch_pickle.ts', 'progress.ts'])
    visit(join(SRC, 'weights', f));
  expect(seen.size).toBeGreaterThan(8);
  expect(bad).toEqual([]);
});
