/**
 * JSON from untrusted files, parsed with two checks JSON.parse does not make: nesting deeper
 * than `limits().maxJsonDepth` (deep values later overflow the stack of whatever walks or
 * prints them) and a key repeated in one object (JSON.parse silently keeps the last, so a file
 * could say two things about one tensor). One linear scan after the parse. Browser-safe.
 */
import { limits } from './limits.js';

/**
 * Parse `text`; on a syntax error, excess depth or a duplicate key, call `fail` with a one-line
 * message (it must throw the caller's typed error).
 */
export function parseJsonGuarded(text: string, fail: (message: string) => never): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  const problem = scanJson(text, limits().maxJsonDepth);
  if (problem) return fail(problem);
  return value;
}

/**
 * Check a *valid* JSON text: returns a message for nesting deeper than `maxDepth` or a
 * duplicate key in one object, undefined when neither.
 */
export function scanJson(text: string, maxDepth: number): string | undefined {
  // One entry per open container: a Set of keys for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        return `nested deeper than ${maxDepth} levels (at character ${i}; limit maxJsonDepth)`;
      }
      stack.push(c === 0x7b ? new Set() : null);
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (!keys) continue;
      let j = i + 1;
      while (j < n && /\s/.test(text[j])) j++;
      if (text[j] !== ':') continue;
      const raw = text.slice(start, i + 1);
      const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (keys.has(key)) {
        const shown = key.length > 80 ? `${key.slice(0, 80)}…` : key;
        return `key ${JSON.stringify(shown)} appears twice in one object (at character ${start})`;
      }
      keys.add(key);
    }
  }
  return undefined;
}
