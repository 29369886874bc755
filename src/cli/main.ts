/**
 * `lxmert` command-line entry: dispatches to one module per subcommand. Every failure is one
 * line on stderr and a non-zero exit code; `LXMERT_DEBUG=1` adds the stack.
 */
import { LxmertError, UsageError } from '../errors.js';
import { applyLimitsEnv } from '../limits.js';

/** A subcommand: parses its own argv, writes its own output, throws on failure. */
export type Command = (argv: string[]) => Promise<void>;

const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<Command>; usesBackend?: boolean }
> = {
  infer: {
    summary: 'run a model on input tensors, write every output (safetensors)',
    load: async () => (await import('./infer.js')).infer,
    usesBackend: true,
  },
  bench: {
    summary: 'time the VQA path (encoders + pooler + answer head)',
    load: async () => (await import('./bench.js')).bench,
    usesBackend: true,
  },
  detect: {
    summary: 'find the 36 regions of images with the Faster R-CNN detector (safetensors, obj36)',
    load: async () => (await import('./detect.js')).detect,
    usesBackend: true,
  },
  ask: {
    summary: 'answer questions about an image (detector + VQA model)',
    load: async () => (await import('./ask.js')).ask,
    usesBackend: true,
  },
  tokenize: {
    summary: 'tokenize JSON lines from stdin with LxmertTokenizer',
    load: async () => (await import('./tokenize.js')).tokenize,
  },
  convert: {
    summary: 'convert a Hugging Face checkpoint to sharded weights with a manifest',
    load: async () => (await import('./convert.js')).convert,
  },
};

export function usage(): string {
  const lines = ['usage: lxmert <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "run 'lxmert <command> --help' for a command's options");
  return lines.join('\n');
}

/** Run the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  try {
    if (!entry)
      throw new UsageError(
        `unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    applyLimitsEnv(process.env.LXMERT_LIMITS);
    const command = await entry.load();
    await command(rest);
    return 0;
  } catch (e) {
    return reportError(e, name ?? 'lxmert');
  } finally {
    if (entry?.usesBackend) await (await import('./runtime.js')).releaseBackend();
  }
}

/** One line on stderr; returns the exit code (2 for usage errors, 1 otherwise). */
export function reportError(e: unknown, command: string): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const kind = err instanceof LxmertError ? err.name : `unexpected ${err.name}`;
  const msg = err.message.replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`lxmert ${command}: ${kind}: ${msg}\n`);
  if (process.env.LXMERT_DEBUG) process.stderr.write(`${err.stack}\n`);
  return err instanceof UsageError ? 2 : 1;
}
