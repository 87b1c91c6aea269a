/**
 * Differential testing of the block compiler (cpu/jit.ts) against the interpreter (cpu/hart.ts):
 * two harts, one with compilation off and one compiling every block at its first entry, run the
 * same guest with the same budgets; after every run() their whole architectural state must agree.
 */
import { expect } from 'vitest';
import { Hart, type JitMode } from '../../lib/backend/emulator/cpu/hart.js';
import type { RamRegion } from '../../lib/backend/emulator/cpu/contract.js';
import { Arena } from '../../lib/backend/emulator/cpu/arena.js';

/** Both block compilers, for tests parametrised over them. */
export const JIT_MODES: JitMode[] = ['js', 'wasm'];

/** The supervisor CSRs a hart has (contract.ts getCsr). */
const CSRS = [0x100, 0x104, 0x105, 0x106, 0x10a, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180];

/** Everything architectural about a hart, as comparable strings. */
export function archState(hart: Hart): Record<string, string> {
  const s: Record<string, string> = {};
  s.pc = hart.pc.toString(16);
  s.mode = String(hart.mode);
  s.instret = String(hart.instret);
  s.fcsr = String(hart.fcsr);
  for (let n = 1; n < 32; n++) s[`x${n}`] = hart.getX(n).toString(16);
  for (let n = 0; n < 32; n++) s[`f${n}`] = hart.getF(n).toString(16);
  for (const c of CSRS) s[`csr${c.toString(16)}`] = hart.getCsr(c).toString(16);
  return s;
}

/** xorshift32: deterministic, so a failure names its seed. */
export function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
}

/** A copy of a region in a plain ArrayBuffer (outside any arena). */
export function cloneRegion(r: RamRegion): RamRegion {
  const bytes = new Uint8Array(r.bytes);
  return { ...r, bytes, view: new DataView(bytes.buffer), dirty: r.dirty ? new Uint8Array(r.dirty) : null, arena: null, arenaAddr: 0 };
}

/** A copy of a region allocated in `arena` (what memory-slots.ts does for a VM). */
export function arenaRegion(arena: Arena, r: RamRegion): RamRegion {
  const addr = arena.alloc(r.size);
  if (addr <= 0) throw new Error('arena full');
  const bytes = new Uint8Array(arena.buffer, addr, r.size);
  bytes.set(r.bytes);
  return { ...r, bytes, view: new DataView(arena.buffer, addr, r.size), dirty: r.dirty ? new Uint8Array(r.dirty) : null, arena, arenaAddr: addr };
}

export interface Pair {
  interp: Hart;
  jit: Hart;
  interpRam: RamRegion[];
  jitRam: RamRegion[];
}

export interface PairOptions {
  mode?: JitMode;
  /** Keep the compiling hart's RAM outside its arena (compiled memory accesses then side-exit). */
  outsideArena?: boolean;
}

/** Two harts over separate copies of the same RAM; `setup` runs on both. The compiling hart has
 * its own arena, with its RAM in it unless `outsideArena`. */
export function hartPair(ram: RamRegion[], setup: (h: Hart) => void, threshold = 1, opts: PairOptions = {}): Pair {
  const arena = new Arena(ram.reduce((n, r) => n + Math.ceil(r.size / 65536), 0) + 4);
  const interpRam = ram.map(cloneRegion);
  const jitRam = opts.outsideArena ? ram.map(cloneRegion) : ram.map((r) => arenaRegion(arena, r));
  const interp = new Hart(0, { readTime: () => BigInt(interp.instret) });
  const jit = new Hart(0, { readTime: () => BigInt(jit.instret) }, arena);
  interp.jit = false;
  jit.jit = true;
  jit.jitMode = opts.mode ?? 'wasm';
  jit.jitThreshold = threshold;
  interp.setRam(interpRam);
  jit.setRam(jitRam);
  setup(interp);
  setup(jit);
  return { interp, jit, interpRam, jitRam };
}

/** Asserts both harts (and their RAM) are in the same state. */
export function expectSame(p: Pair, context: string): void {
  const a = archState(p.interp), b = archState(p.jit);
  for (const k of Object.keys(a)) {
    if (a[k] !== b[k]) expect(`${k} = ${b[k]}`, `${context}: compiled vs interpreted`).toBe(`${k} = ${a[k]}`);
  }
  for (let r = 0; r < p.interpRam.length; r++) {
    if (Buffer.compare(p.interpRam[r].bytes, p.jitRam[r].bytes) !== 0) {
      const x = p.interpRam[r].bytes, y = p.jitRam[r].bytes;
      let at = 0;
      while (x[at] === y[at]) at++;
      expect(`ram[${r}]+0x${at.toString(16)} = ${y[at]}`, `${context}: memory`).toBe(`ram[${r}]+0x${at.toString(16)} = ${x[at]}`);
    }
    const dx = p.interpRam[r].dirty, dy = p.jitRam[r].dirty;
    if (dx && dy) expect(Buffer.compare(dx, dy), `${context}: dirty log of region ${r}`).toBe(0);
  }
}
