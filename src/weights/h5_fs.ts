/**
 * Node: h5wasm with exactly one host file visible to it.
 *
 * h5wasm's Node build reaches the whole host file system (Emscripten NODERAWFS), so an HDF5
 * file's external link, virtual dataset or external raw-data list could make the HDF5 library
 * open any file the process may read. We load h5wasm's portable build instead (its in-memory
 * file system sees nothing of the host) and mount into it a read-only file system holding one
 * file, whose reads go to a file descriptor we opened: `pread` on demand, nothing loaded whole.
 * An HDF5 file that names any other file gets ENOENT from the library. The reader still refuses
 * such files by name first (h5_reader.ts), so the message says what was asked for.
 *
 * The file system follows the shape of Emscripten's WORKERFS (src/lib/libworkerfs.js), which
 * cannot be used here: it needs FileReaderSync (workers only).
 */
import { readSync } from 'node:fs';
import type * as H5 from 'h5wasm';

type H5Api = typeof H5;

/** The parts of Emscripten's FS object used here (h5wasm types it loosely). */
interface EmFs {
  mkdir(path: string): void;
  rmdir(path: string): void;
  mount(type: object, opts: object, mountpoint: string): void;
  unmount(mountpoint: string): void;
  createNode(parent: EmNode | null, name: string, mode: number, dev: number): EmNode;
  ErrnoError: new (errno: number) => Error;
}

interface EmNode {
  id: number;
  mode: number;
  node_ops: object;
  stream_ops: object;
  size?: number;
  contents?: unknown;
  timestamp?: number;
}

interface EmStream {
  node: EmNode & { fd?: number; size: number };
  position: number;
}

const DIR_MODE = 0o40555;
const FILE_MODE = 0o100444;
// Emscripten errno values (not the host's): see system/lib/libc/musl/arch/emscripten/bits/errno.h
const ENOENT = 44;
const EPERM = 63;
const EINVAL = 28;
const EROFS = 69;

let api: Promise<H5Api> | undefined;

/** h5wasm's portable build, loaded once, with errors thrown instead of printed. */
export function h5wasm(): Promise<H5Api> {
  api ??= (async () => {
    const mod = await import('h5wasm');
    const m = await mod.ready;
    // HDF5 otherwise prints its error stack on stderr and returns a negative status.
    m.activate_throwing_error_handler();
    return mod;
  })();
  return api;
}

function fsOf(mod: H5Api): EmFs {
  return mod.Module.FS as unknown as EmFs;
}

/** A read-only Emscripten file system holding one host file (by descriptor). */
function oneFileFs(fs: EmFs) {
  const node_ops = {
    getattr(node: EmNode & { size: number }) {
      const t = new Date(node.timestamp ?? 0);
      return {
        dev: 1,
        ino: node.id,
        mode: node.mode,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        size: node.size,
        atime: t,
        mtime: t,
        ctime: t,
        blksize: 4096,
        blocks: Math.ceil(node.size / 4096),
      };
    },
    setattr() {
      throw new fs.ErrnoError(EPERM);
    },
    lookup() {
      throw new fs.ErrnoError(ENOENT);
    },
    mknod() {
      throw new fs.ErrnoError(EROFS);
    },
    rename() {
      throw new fs.ErrnoError(EROFS);
    },
    unlink() {
      throw new fs.ErrnoError(EROFS);
    },
    rmdir() {
      throw new fs.ErrnoError(EROFS);
    },
    readdir(node: EmNode) {
      return ['.', '..', ...Object.keys(node.contents as object)];
    },
    symlink() {
      throw new fs.ErrnoError(EROFS);
    },
  };
  const stream_ops = {
    read(stream: EmStream, buffer: Uint8Array, offset: number, length: number, pos: number) {
      const { fd, size } = stream.node;
      if (fd === undefined || pos >= size) return 0;
      return readSync(fd, buffer, offset, Math.min(length, size - pos), pos);
    },
    write() {
      throw new fs.ErrnoError(EROFS);
    },
    llseek(stream: EmStream, offset: number, whence: number) {
      let pos = offset;
      if (whence === 1) pos += stream.position;
      else if (whence === 2) pos += stream.node.size;
      if (pos < 0) throw new fs.ErrnoError(EINVAL);
      return pos;
    },
  };
  return {
    mount(m: { opts: { name: string; fd: number; size: number; mtime: number } }) {
      const root = fs.createNode(null, '/', DIR_MODE, 0);
      root.node_ops = node_ops;
      root.stream_ops = stream_ops;
      root.contents = {};
      root.size = 4096;
      const file = fs.createNode(root, m.opts.name, FILE_MODE, 0) as EmNode & { fd: number };
      file.node_ops = node_ops;
      file.stream_ops = stream_ops;
      file.fd = m.opts.fd;
      file.size = m.opts.size;
      file.timestamp = m.opts.mtime;
      (root.contents as Record<string, EmNode>)[m.opts.name] = file;
      return root;
    },
  };
}

let mounts = 0;

/** A host file made visible to h5wasm (and nothing else of the host). */
export interface MountedFile {
  /** The path to give `new h5wasm.File(path, 'r')`. */
  path: string;
  /** Remove the mount (the caller closes its descriptor). */
  unmount(): void;
}

/** Show one open host file to h5wasm, under a fresh folder, read-only. */
export function mountFile(
  mod: H5Api,
  fd: number,
  size: number,
  mtime = Date.now(),
  name = 'weights.h5',
): MountedFile {
  const fs = fsOf(mod);
  const dir = `/lxmert-h5-${++mounts}`;
  fs.mkdir(dir);
  fs.mount(oneFileFs(fs), { name, fd, size, mtime }, dir);
  return {
    path: `${dir}/${name}`,
    unmount() {
      fs.unmount(dir);
      fs.rmdir(dir);
    },
  };
}
