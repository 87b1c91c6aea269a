/**
 * Boot images (kernel, initrd) as the loaders read them: from bytes the caller holds, or from a
 * file that is read again each time a boot loads it.
 *
 * Why a file source: a VMM that keeps the kernel's bytes so it can load them again at a reboot
 * holds them for the machine's whole life (31 MB for Debian's riscv64 Image, next to the copy the
 * guest runs from). Reading the file at each boot, in chunks written straight into guest RAM, needs
 * one 1 MiB buffer instead — the way kvmtool and Firecracker take a kernel path. The price: a file
 * replaced or removed while the machine runs is what the next reboot loads (or fails on, with an
 * error naming the file), as it would be for a fresh start.
 *
 * Big copies matter for another reason too: when a large malloc'd buffer is freed, glibc raises its
 * mmap and trim thresholds to that size (mallopt(3), M_MMAP_THRESHOLD "dynamic adjustment"), after
 * which the malloc arenas of V8's compiler threads stop giving freed memory back to the system.
 * Chunks of 1 MiB keep that adjustment small.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Random access to an image's bytes, for one load. */
export interface ImageReader {
  readonly length: number;
  /** `length` bytes from `offset` (inside the image): a view valid until the next read. */
  read(offset: number, length: number): Uint8Array;
}

/** Where a loader copies an image: GuestMemory from lib/backend/types.ts satisfies it. */
export interface ImageSink {
  writeBytes(gpa: bigint, data: Uint8Array): void;
  fill(gpa: bigint, length: number, value: number): void;
}

/** A sink for validating an image without loading it: the loaders check everything as for a real
 * load, and copyImage does not even read the bytes it would copy (reading Debian's 31 MB kernel
 * just to drop it cost start-up time, most under nested emulation). */
export const VALIDATE_ONLY: ImageSink = Object.freeze({ writeBytes() {}, fill() {} });

/** Bytes per read when an image is copied from its file. */
export const IMAGE_CHUNK = 1 << 20;

/** An image given by its path: checked (a non-empty regular file) when made, read at each load. */
export class ImageFile {
  readonly path: string;
  /** The size found when this object was made; a load that finds another size fails. */
  readonly length: number;

  constructor(path: string) {
    if (typeof path !== 'string' || path === '') throw new TypeError(`ImageFile: path must be a non-empty string, got ${path === '' ? 'an empty string' : typeof path}`);
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: is a directory, read '${path}'`), { code: 'EISDIR', syscall: 'read', path });
    // Devices and FIFOs have no size to check up front and may not give the same bytes twice.
    if (!st.isFile()) throw Object.assign(new Error(`not a regular file: '${path}'`), { code: 'ENOTREG', syscall: 'open', path });
    this.path = path;
    this.length = st.size;
  }

  /** Runs `use` with a reader over the file, closed afterwards. */
  read<T>(use: (reader: ImageReader) => T): T {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size !== this.length) throw this.changed(`it is now ${size} bytes, was ${this.length}`);
      return use(new FileReader(fd, this));
    } finally {
      closeSync(fd);
    }
  }

  /** @internal */
  changed(what: string): Error {
    return Object.assign(new Error(`${this.path}: the file changed since the machine was configured (${what})`), { code: 'ECHANGED', syscall: 'read', path: this.path });
  }
}

class FileReader implements ImageReader {
  readonly length: number;
  #buffer = new Uint8Array(0);

  constructor(private readonly fd: number, private readonly file: ImageFile) {
    this.length = file.length;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this.length, offset, length);
    if (this.#buffer.length < length) this.#buffer = new Uint8Array(Math.max(length, Math.min(IMAGE_CHUNK, this.length)));
    const out = this.#buffer.subarray(0, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw this.file.changed(`it ended at byte ${offset + done}`);
      done += n;
    }
    return out;
  }
}

/** A reader over bytes the caller holds (no copy). */
export function bytesReader(bytes: Uint8Array): ImageReader {
  return {
    length: bytes.length,
    read(offset, length) {
      checkRange(bytes.length, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Runs `use` with a reader over `image`, whichever kind it is. */
export function readImage<T>(image: Uint8Array | ImageFile, use: (reader: ImageReader) => T): T {
  return image instanceof ImageFile ? image.read(use) : use(bytesReader(image));
}

/** Copies image bytes [offset, offset + length) to `gpa` in `sink`, one chunk at a time. */
export function copyImage(reader: ImageReader, offset: number, length: number, sink: ImageSink, gpa: bigint): void {
  if (sink === VALIDATE_ONLY) return;
  for (let done = 0; done < length; done += IMAGE_CHUNK) {
    const n = Math.min(IMAGE_CHUNK, length - done);
    sink.writeBytes(gpa + BigInt(done), reader.read(offset + done, n));
  }
}

function checkRange(size: number, offset: number, length: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new RangeError(`image read [${offset}, +${length}) is outside the image's ${size} bytes`);
  }
}
