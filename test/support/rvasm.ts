/**
 * Test helper: assemble RISC-V snippets with the cross binutils (riscv64-linux-gnu-as/ld/objcopy,
 * installed by scripts/setup.sh) into a flat binary linked at a chosen address, and build RAM
 * regions for a bare Hart. Results are cached per (source, base) for the life of the process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RamRegion } from '../../lib/backend/emulator/cpu/contract.js';

const cache = new Map<string, Uint8Array>();

/** Assemble `source` (rv64gc, no relaxation) linked so that its first byte is at `base`. */
export function assemble(source: string, base = 0x8000_0000): Uint8Array {
  const key = `${base}\n${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'rvasm-'));
  try {
    const src = join(dir, 'a.S');
    writeFileSync(src, `.option norelax\n.section .text\n.globl _start\n_start:\n${source}\n`);
    execFileSync('riscv64-linux-gnu-as', ['-march=rv64gc', '-mabi=lp64d', '-mno-relax', '-o', join(dir, 'a.o'), src]);
    execFileSync('riscv64-linux-gnu-ld', ['-nostdlib', '--no-relax', `-Ttext=0x${base.toString(16)}`, '-e', '_start', '-o', join(dir, 'a.elf'), join(dir, 'a.o')]);
    execFileSync('riscv64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.elf'), join(dir, 'a.bin')]);
    const bin = new Uint8Array(readFileSync(join(dir, 'a.bin')));
    cache.set(key, bin);
    return bin;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A zeroed RAM region at `base`. */
export function ramRegion(base: number, size: number, opts: { readonly?: boolean; dirty?: boolean } = {}): RamRegion {
  const bytes = new Uint8Array(size);
  return {
    base,
    size,
    bytes,
    view: new DataView(bytes.buffer),
    readonly: opts.readonly ?? false,
    dirty: opts.dirty ? new Uint8Array(Math.ceil(size / 4096 / 8)) : null,
  };
}
