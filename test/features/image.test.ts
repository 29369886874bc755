/** PNG / JPEG decoding to RGBA, the pixel limit from the header, and bad images. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageError, InputError } from '../../src/errors.js';
import { decodeImage, imageToRgba, readImageHeader } from '../../src/features/image.js';
import { readImageFile } from '../../src/features/image_node.js';

const FRCNN = join(import.meta.dirname, '..', 'fixtures', 'frcnn-narrow');
const IMAGES = join(import.meta.dirname, '..', 'fixtures', 'images');
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A w x h RGB gradient as RGBA. */
function gradient(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      d.set([(x * 37) & 255, (y * 53) & 255, (x * y) & 255, 255], o);
    }
  }
  return d;
}

function rgbOf(img: { data: ArrayLike<number> }): number[] {
  return Array.from(img.data).filter((_, i) => i % 4 !== 3);
}

function expectImageError(f: () => unknown, argument: RegExp, expected: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ImageError);
  expect(err).toBeInstanceOf(InputError);
  expect((err as ImageError).argument).toMatch(argument);
  expect((err as ImageError).expected).toMatch(expected);
}

describe('PNG', () => {
  it('decodes the fixture images (8-bit RGB) with their sizes', async () => {
    const a = await readImageFile(join(FRCNN, 'img_a.png'));
    expect([a.width, a.height, a.data.length]).toEqual([320, 240, 320 * 240 * 4]);
    const b = await readImageFile(join(FRCNN, 'img_b.png'));
    expect([b.width, b.height]).toEqual([150, 310]);
    for (let i = 3; i < a.data.length; i += 4) if (a.data[i] !== 255) throw new Error('alpha');
  });

  it('RGB, RGBA, gray, gray+alpha, 16-bit, palette and 1-bit gray all give the same RGBA', () => {
    const w = 7;
    const h = 5;
    const rgba = gradient(w, h);
    const rgb = new Uint8Array(w * h * 3);
    const gray = new Uint8Array(w * h);
    const rgb16 = new Uint16Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
      gray[i] = rgba[i * 4];
      for (let c = 0; c < 3; c++)
        rgb16[i * 3 + c] =
          rgba[i * 4 + c] * 257 + (c === 0 ? 128 : -100 * Math.sign(rgba[i * 4 + c]));
    }
    const want = rgbOf({ data: rgba });
    const fromRgb = decodeImage(
      encodePng({ width: w, height: h, data: rgb, channels: 3, depth: 8 }),
    );
    expect(rgbOf(fromRgb)).toEqual(want);
    const withAlpha = rgba.slice();
    for (let i = 3; i < withAlpha.length; i += 4) withAlpha[i] = i % 7;
    const fromRgba = decodeImage(
      encodePng({ width: w, height: h, data: withAlpha, channels: 4, depth: 8 }),
    );
    expect(rgbOf(fromRgba)).toEqual(want); // alpha is kept apart, never composited
    expect(fromRgba.data[3]).toBe(3);
    const from16 = decodeImage(
      encodePng({ width: w, height: h, data: rgb16, channels: 3, depth: 16 }),
    );
    expect(rgbOf(from16)).toEqual(want); // v / 257 rounded
    const fromGray = decodeImage(
      encodePng({ width: w, height: h, data: gray, channels: 1, depth: 8 }),
    );
    expect(Array.from(fromGray.data.subarray(0, 8))).toEqual([
      gray[0],
      gray[0],
      gray[0],
      255,
      gray[1],
      gray[1],
      gray[1],
      255,
    ]);
    const ga = new Uint8Array(w * h * 2);
    gray.forEach((v, i) => ga.set([v, 100], i * 2));
    const fromGa = decodeImage(encodePng({ width: w, height: h, data: ga, channels: 2, depth: 8 }));
    expect(Array.from(fromGa.data.subarray(4, 8))).toEqual([gray[1], gray[1], gray[1], 100]);
    // palette: 3 colours, 8-bit indices
    const palette = [
      [10, 20, 30],
      [200, 100, 0],
      [1, 2, 3],
    ];
    const idx = new Uint8Array(w * h).map((_, i) => i % 3);
    const fromPal = decodeImage(
      encodePng({ width: w, height: h, data: idx, channels: 1, depth: 8, palette }),
    );
    expect(Array.from(fromPal.data.subarray(0, 12))).toEqual([
      10, 20, 30, 255, 200, 100, 0, 255, 1, 2, 3, 255,
    ]);
    // 1-bit gray, 9 wide (rows padded to 2 bytes): 0 → 0, 1 → 255
    const bits = new Uint8Array([0b10100000, 0b10000000, 0b01000000, 0b00000000]);
    const fromBits = decodeImage(
      encodePng({ width: 9, height: 2, data: bits, channels: 1, depth: 1 }),
    );
    const row = (y: number) => Array.from({ length: 9 }, (_, x) => fromBits.data[(y * 9 + x) * 4]);
    expect(row(0)).toEqual([255, 0, 255, 0, 0, 0, 0, 0, 255]);
    expect(row(1)).toEqual([0, 255, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('JPEG', () => {
  it('decodes RGB JPEGs (jpeg-js) close to the source pixels', () => {
    const w = 16;
    const h = 8;
    const src = new Uint8Array(w * h * 4).fill(255);
    for (let i = 0; i < w * h; i++) src.set([120, 60, 200], i * 4);
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: src }, 95).data);
    const hdr = readImageHeader(bytes);
    expect(hdr).toMatchObject({ format: 'jpeg', width: 16, height: 8, bitDepth: 8, colorType: 3 });
    const img = decodeImage(bytes);
    expect([img.width, img.height]).toEqual([16, 8]);
    for (let i = 0; i < w * h; i++) {
      expect(Math.abs(img.data[i * 4] - 120)).toBeLessThanOrEqual(3);
      expect(Math.abs(img.data[i * 4 + 2] - 200)).toBeLessThanOrEqual(3);
    }
  });

  it('converts a CMYK JPEG (Adobe marker) to the RGB that Pillow gives', () => {
    const bytes = new Uint8Array(readFileSync(join(IMAGES, 'cmyk.jpg')));
    expect(readImageHeader(bytes).colorType).toBe(4);
    const want = JSON.parse(readFileSync(join(IMAGES, 'cmyk_rgb.json'), 'utf8')) as {
      rgb: number[];
    };
    const img = decodeImage(bytes);
    const got = rgbOf(img);
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want.rgb[i]))));
    // Pillow and jpeg-js use different IDCTs / upsampling; the colour model must agree.
    expect(worst).toBeLessThanOrEqual(6);
  });

  it('refuses a 4-component JPEG without the Adobe marker', () => {
    const bytes = new Uint8Array(readFileSync(join(IMAGES, 'cmyk.jpg')));
    // Rename APP14 'Adobe' so jpeg-js no longer sees it.
    const s = Buffer.from(bytes).indexOf('Adobe');
    expect(s).toBeGreaterThan(0);
    const noAdobe = bytes.slice();
    noAdobe[s] = 'X'.charCodeAt(0);
    expectImageError(() => decodeImage(noAdobe), /image/, /Adobe APP14/);
  });
});

describe('bad images', () => {
  const png = encodePng({ width: 40, height: 30, data: gradient(40, 30), channels: 4, depth: 8 });
  const jpg = new Uint8Array(
    jpeg.encode({ width: 40, height: 30, data: gradient(40, 30) }, 90).data,
  );

  it('not an image, empty, or text', () => {
    expectImageError(() => decodeImage(new Uint8Array(0)), /image/, /PNG or JPEG/);
    expectImageError(
      () => decodeImage(new TextEncoder().encode('hello, world')),
      /image/,
      /PNG or JPEG/,
    );
    expectImageError(
      () => decodeImage(new Uint8Array(readFileSync(join(FRCNN, 'config.yaml')))),
      /image/,
      /PNG or JPEG/,
    );
  });

  it('truncated PNG and JPEG', () => {
    expectImageError(() => decodeImage(png.subarray(0, 20)), /image/, /IHDR/);
    expectImageError(
      () => decodeImage(png.subarray(0, png.length - 30)),
      /image/,
      /complete, valid PNG/,
    );
    expectImageError(() => decodeImage(jpg.subarray(0, 10)), /image/, /frame header/);
    expectImageError(
      () => decodeImage(jpg.subarray(0, Math.floor(jpg.length / 2))),
      /image/,
      /complete, valid JPEG/,
    );
  });

  it('zero-size images', () => {
    const zero = png.slice();
    new DataView(zero.buffer).setUint32(16, 0); // width 0 in IHDR
    expectImageError(() => decodeImage(zero), /image/, /at least 1x1/);
    const zj = jpg.slice();
    const sof = Buffer.from(zj).indexOf(Buffer.from([0xff, 0xc0]));
    zj[sof + 7] = 0;
    zj[sof + 8] = 0; // width 0
    expectImageError(() => decodeImage(zj), /image/, /at least 1x1/);
    expectImageError(() => decodeImage(new Uint8Array(0)), /image/, /PNG or JPEG/);
  });

  it('refuses over the pixel limit from the header, before decoding', async () => {
    // A PNG header claiming 10000 x 6000 (60 MP), followed by nothing decodable.
    const huge = png.slice(0, 33);
    const dv = new DataView(huge.buffer);
    dv.setUint32(16, 10000);
    dv.setUint32(20, 6000);
    expectImageError(() => decodeImage(huge), /image/, /at most 50000000 pixels/);
    const path = join(tmp, 'huge.png');
    writeFileSync(path, huge);
    await expect(readImageFile(path)).rejects.toThrow(/at most 50000000 pixels.*60000000 pixels/);
    // configurable
    expectImageError(() => decodeImage(png, { maxPixels: 1000 }), /image/, /at most 1000 pixels/);
    expectImageError(() => decodeImage(jpg, { maxPixels: 1199 }), /image/, /at most 1199 pixels/);
    expect(decodeImage(jpg, { maxPixels: 1200 }).width).toBe(40);
    expectImageError(() => decodeImage(png, { maxPixels: 0 }), /maxPixels/, /positive integer/);
  });

  it('missing files and folders name the path', async () => {
    await expect(readImageFile(join(tmp, 'nope.png'))).rejects.toThrow(
      /nope\.png: expected a readable PNG or JPEG file, got ENOENT/,
    );
    await expect(readImageFile(tmp)).rejects.toThrow(ImageError);
  });

  it('imageToRgba takes bytes, Blobs, ImageData-like objects, and checks them', async () => {
    const a = await imageToRgba(png);
    expect(a.width).toBe(40);
    const b = await imageToRgba(new Blob([png as Uint8Array<ArrayBuffer>]));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const c = await imageToRgba({ width: 40, height: 30, data: new Uint8ClampedArray(a.data) });
    expect(c.height).toBe(30);
    await expect(imageToRgba({ width: 40, height: 30, data: new Uint8Array(10) })).rejects.toThrow(
      /image\.data: expected width × height × 4 = 4800 bytes/,
    );
    await expect(imageToRgba(new Blob(['not an image']))).rejects.toThrow(ImageError);
    await expect(imageToRgba(42 as never)).rejects.toThrow(/File\/Blob/);
  });
});

describe('browser-safe', () => {
  it('image.ts, the detector loader and the pipeline reach no node: imports', () => {
    const src = join(import.meta.dirname, '..', '..', 'src');
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1];
        if (spec.startsWith('node:')) bad.push(`${file}: ${spec}`);
        else if (spec.startsWith('.')) visit(join(file, '..', spec.replace(/\.js$/, '.ts')));
      }
    };
    for (const f of [
      'features/image.ts',
      'weights/detector_loader.ts',
      'pipeline/vqa.ts',
      'features/obj36_writer.ts',
    ]) {
      visit(join(src, f));
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });
});
