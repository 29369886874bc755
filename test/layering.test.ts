/**
 * The one-way layering of ../shared/STYLE.md, read from the import statements of src/, kernels/
 * and demo/: each part imports only from its own floor or the floors below, no two parts import
 * each other (directly or round a loop), and every file belongs to a known part, so a new folder
 * has to find its floor here first. Folders that do not exist yet (src/detector, src/app) are
 * placed already. And test/ mirrors src/ and kernels/: every folder has its test folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** Parts (a folder ending in '/' or a file) and their floors, lowest first. */
const FLOORS: Readonly<Record<string, number>> = {
  // 1. ground: errors and the tensor codecs every other part shares
  'src/errors.ts': 1,
  'src/codec/': 1,
  // the limits on untrusted input, guarded JSON and checked file opening (SECURITY.md)
  'src/limits.ts': 1,
  'src/json_guard.ts': 1,
  'src/safe_file.ts': 1,
  // 2. config, tokenizer, features, kernels (kernels know shapes, not LXMERT)
  'src/config.ts': 2,
  'src/tokenizer/': 2,
  'src/features/': 2,
  'kernels/': 2,
  // 3. layers that take a name → tensor map and know no file format
  'src/model/': 3,
  'src/detector/': 3,
  // 4. file formats, conversion, loading, caching
  'src/weights/': 4,
  // 5.
  'src/pipeline/': 5,
  'src/backend.ts': 5,
  // 6. the surfaces
  'src/app/': 6,
  'src/cli/': 6,
  'src/index.ts': 6,
  'src/node.ts': 6,
  'demo/': 6,
};

/** The part a repository path belongs to, or undefined. */
function partOf(path: string): string | undefined {
  return Object.keys(FLOORS).find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
}

interface Edge {
  from: string;
  to: string;
}

/** Import edges that point to a higher floor, as messages. */
function upwardImports(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = partOf(from);
    const b = partOf(to);
    if (a === undefined || b === undefined || a === b) continue;
    if (FLOORS[b] > FLOORS[a]) {
      out.push(`${from} (${a}, floor ${FLOORS[a]}) imports ${to} (${b}, floor ${FLOORS[b]})`);
    }
  }
  return out;
}

/** Loops between parts (each reported once, as a path of parts). */
function partCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = partOf(from);
    const b = partOf(to);
    if (a === undefined || b === undefined || a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const cycles = new Set<string>();
  const visit = (node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = path.slice(at);
        const start = loop.indexOf([...loop].sort()[0]);
        cycles.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(' → '));
      } else {
        visit(next, [...path, next]);
      }
    }
  };
  for (const node of graph.keys()) visit(node, [node]);
  return [...cycles];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory() && e.name !== 'dist' && e.name !== 'node_modules') {
      out.push(...sourceFiles(path));
    } else if (e.isFile() && e.name.endsWith('.ts')) {
      out.push(path);
    }
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of one file, as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts');
    out.push(target);
  }
  return out;
}

const FILES = ['src', 'kernels', 'demo'].flatMap(sourceFiles);
const EDGES: Edge[] = FILES.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe('one-way layering (../shared/STYLE.md)', () => {
  it('reads the tree: files and import edges found', () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(EDGES.length).toBeGreaterThan(100);
    expect(EDGES).toContainEqual({ from: 'src/model/module.ts', to: 'kernels/weights.ts' });
  });

  it('every source file belongs to a part with a floor', () => {
    expect(FILES.filter((f) => partOf(f) === undefined)).toEqual([]);
  });

  it('no part imports from a floor above it', () => {
    expect(upwardImports(EDGES)).toEqual([]);
  });

  it('no two parts import each other, directly or round a loop', () => {
    expect(partCycles(EDGES)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    const bad: Edge[] = [
      { from: 'src/model/module.ts', to: 'src/weights/loader.ts' },
      { from: 'kernels/weights.ts', to: 'src/model/module.ts' },
      { from: 'src/detector/rpn.ts', to: 'src/app/api.ts' },
      { from: 'src/weights/loader.ts', to: 'src/model/module.ts' },
    ];
    expect(upwardImports(bad)).toHaveLength(3);
    expect(partCycles(bad)).toEqual(['src/model/ → src/weights/ → src/model/']);
    expect(partOf('src/detector/rpn.ts')).toBe('src/detector/');
    expect(partOf('src/app/worker.ts')).toBe('src/app/');
    expect(partOf('src/mystery/x.ts')).toBeUndefined();
  });
});

/** Every folder under `dir` (itself included), as repository paths. */
function folders(dir: string): string[] {
  const subs = readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'dist')
    .map((e) => `${dir}/${e.name}`);
  return [dir, ...subs.flatMap(folders)];
}

describe('test/ mirrors src/ and kernels/', () => {
  it('every folder has a test folder with tests in it', () => {
    const mirrors = [...folders('src').filter((d) => d !== 'src'), ...folders('kernels')].map(
      (d) => [d, `test/${d.replace(/^src\//, '')}`] as const,
    );
    expect(mirrors.length).toBeGreaterThan(8);
    const missing = mirrors
      .filter(
        ([, t]) =>
          !existsSync(join(ROOT, t)) ||
          !readdirSync(join(ROOT, t)).some((f) => f.endsWith('.test.ts')),
      )
      .map(([d, t]) => `${d} → ${t}`);
    expect(missing).toEqual([]);
  });
});
