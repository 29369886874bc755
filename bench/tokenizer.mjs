/* global console, process, URL */
// Tokenizer benchmark: 10,000 VQA-style questions, generated deterministically from templates.
// Run after `npm run build`:  node bench/tokenizer.mjs [--runs N]
import { LxmertTokenizer } from '../dist/src/tokenizer/index.js';
import { defaultVocabPath } from '../dist/src/tokenizer/node.js';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const N = 10_000;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

const TEMPLATES = [
  'What color is the {o}?',
  'How many {o}s are in the picture?',
  'Is there a {o} in the image?',
  'What is the {p} holding?',
  'Where is the {a} {o}?',
  'Is the {o} {a} or {a2}?',
  'What is on the {o} next to the {o2}?',
  'Which side of the photo is the {o} on, left or right?',
  'Why is the {p} wearing a {a} {o}?',
  "What's the {p} doing with the {o}?",
  'Are the {o}s on the {o2} {a}?',
  'Does the {p} look happy?',
  'Is the {A} {O} made of metal, wood or plastic?',
  'How MANY {o}S can you see?!',
];
// Visual Genome's 1600 object and 400 attribute names (data/vg-*.txt) for a realistic word variety.
const root = new URL('../', import.meta.url);
const names = (file) =>
  readFileSync(new URL(`data/${file}`, root), 'utf8')
    .split('\n')
    .map((line) => line.split(',')[0].trim())
    .filter((w) => w !== '');
const OBJECTS = names('vg-objects.txt');
const ATTRS = names('vg-attributes.txt');
const PEOPLE = ['man', 'woman', 'boy', 'girl', 'player', 'chef', 'skier', 'child'];

let seed = 42;
const rand = (n) => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed % n;
};
const pick = (xs) => xs[rand(xs.length)];
const questions = Array.from({ length: N }, () =>
  pick(TEMPLATES)
    .replace('{o}', pick(OBJECTS))
    .replace('{o2}', pick(OBJECTS))
    .replace('{p}', pick(PEOPLE))
    .replace('{a}', pick(ATTRS))
    .replace('{a2}', pick(ATTRS))
    .replace('{A}', pick(ATTRS).toUpperCase())
    .replace('{O}', pick(OBJECTS).toUpperCase()),
);

const vocabText = readFileSync(defaultVocabPath(), 'utf8');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(label, makeTokenizer, run) {
  const times = [];
  let tokens = 0;
  for (let r = 0; r < RUNS; r++) {
    const tok = makeTokenizer(r);
    const t0 = performance.now();
    tokens = run(tok);
    times.push(performance.now() - t0);
  }
  console.log(
    `${label.padEnd(58)} median ${median(times).toFixed(1).padStart(6)} ms` +
      `  (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}, ${RUNS} runs, ${tokens} tokens)`,
  );
}

const shared = LxmertTokenizer.fromVocabText(vocabText);
const encodeAll = (tok) => {
  let n = 0;
  for (const q of questions) n += tok.encode(q).inputIds.length;
  return n;
};
const batch20 = (tok) => {
  const b = tok.encodeBatch(questions, null, { maxLength: 20, padding: 'max_length' });
  return b.inputIds.length * 20;
};

console.log(`LxmertTokenizer, ${N} VQA-style questions, node ${process.version}`);
time('encode() each question, warm tokenizer', () => shared, encodeAll);
time('encodeBatch(maxLength 20, padding max_length), warm', () => shared, batch20);
// A fresh tokenizer per run: its word cache starts empty (construction is not timed).
const fresh = Array.from({ length: RUNS }, () => LxmertTokenizer.fromVocabText(vocabText));
time('encode() each question, fresh tokenizer (cold cache)', (r) => fresh[r], encodeAll);
