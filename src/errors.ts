/**
 * Typed errors. Every error names what was wrong (the argument, file or setting), what was
 * expected and what came, so a caller can fix the input without reading our code.
 */

/** Base class of every error this library throws on purpose. */
export class LxmertError extends Error {
  constructor(message: string) {
    super(message);
  }
  /** Set per class as a literal: minifiers rename classes, so `constructor.name` is unusable. */
  override name = 'LxmertError';
}

/** An argument has the wrong shape, rank, dtype or value. */
export class InputError extends LxmertError {
  override name = 'InputError';
  constructor(
    /** The argument at fault, e.g. `visual_feats`. */
    readonly argument: string,
    /** What was expected, in words. */
    readonly expected: string,
    /** What came, in words. */
    readonly actual: string,
  ) {
    super(`${argument}: expected ${expected}, got ${actual}`);
  }
}

/**
 * An image that cannot be used: not a PNG/JPEG (or browser image source), truncated or corrupt,
 * zero-size, over the pixel limit, or in a colour model we do not convert. An InputError, so
 * it names the argument, what was expected and what came.
 */
export class ImageError extends InputError {
  override name = 'ImageError';
}

/** A config.json that is missing, malformed or inconsistent. */
export class ConfigError extends LxmertError {
  override name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`config.${field}: expected ${expected}, got ${actual}`);
  }
}

/** Weights that are missing, mis-shaped, corrupt or do not match the config. */
export class WeightsError extends LxmertError {
  override name = 'WeightsError';
  constructor(
    message: string,
    /** The file or tensor name the problem is in, when known. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

/** A backend that cannot be initialised or used. */
export class BackendError extends LxmertError {
  override name = 'BackendError';
}

/** Tokenizer vocabulary or input problems. */
export class TokenizerError extends LxmertError {
  override name = 'TokenizerError';
}

/** Bad command-line usage. */
export class UsageError extends LxmertError {
  override name = 'UsageError';
}

/** Render a shape for messages: `[1, 36, 2048]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
