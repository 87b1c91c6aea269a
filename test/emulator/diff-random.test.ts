/**
 * Compiled blocks vs the interpreter over random instruction streams: random straight-line code
 * (every op the block compiler handles, plus ops that end a block: CSRs, ecall, fence.i, AMOs,
 * compressed forms), forward branches, indirect jumps (jalr) back into the code, a counted loop so blocks get hot, loads and stores around a
 * page boundary (TLB misses, page-crossing and MMIO accesses), stores into the code itself, and a
 * trap handler. Both harts run the same budgets; after every run() the whole state must agree.
 */
import { describe, expect, it } from 'vitest';
import { StopReason } from '../../lib/backend/emulator/cpu/contract.js';
import { IRQ_S_TIMER } from '../../lib/backend/emulator/cpu/contract.js';
import { ramRegion } from '../support/rvasm.js';
import { JIT_MODES, expectSame, hartPair, rng } from './diff-support.js';
import type { JitMode } from '../../lib/backend/emulator/cpu/hart.js';

const BASE = 0x8000_0000;
const CODE_SIZE = 0x4000;
const DATA = BASE + 0x10000; // two data pages; s0 points at the boundary between them
const RAM_SIZE = 0x20000;
const MMIO = 0x1000_0000; // outside RAM: loads/stores there stop with StopReason.Mmio

// Encoders (unprivileged spec, "Base Instruction Formats").
const R = (f7: number, rs2: number, rs1: number, f3: number, rd: number, opc: number) =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const I = (imm: number, rs1: number, f3: number, rd: number, opc: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const S = (imm: number, rs2: number, rs1: number, f3: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23) >>> 0;
const B = (imm: number, rs2: number, rs1: number, f3: number) =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
const U = (imm: number, rd: number, opc: number) => ((imm & 0xfffff000) | (rd << 7) | opc) >>> 0;
const J = (imm: number, rd: number) =>
  ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0;

/** One emitted item: 2 or 4 bytes, or a branch resolved after layout. */
type Item = { half: number } | { word: number } | { branch: number; rs1: number; rs2: number; skip: number };

const S0 = 8, S1 = 9, S2 = 18, S3 = 19; // data pointer, loop counter, code pointer, MMIO pointer
const FREE = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31];

function program(next: () => number, opts: { smc: boolean; mmio: boolean }): Uint8Array {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
  const reg = () => pick(FREE);
  const anyReg = () => next() % 32;
  const items: Item[] = [];
  const n = 20 + (next() % 60);
  for (let k = 0; k < n; k++) {
    const kind = next() % 100;
    if (kind < 30) {
      // OP and OP-32, including M.
      const [f7, f3] = pick([[0, 0], [0x20, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0x20, 5], [0, 6], [0, 7],
        [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7]]);
      const w32 = next() % 3 === 0;
      if (w32 && ![0, 1, 5].includes(f3) && f7 !== 1) { k--; continue; }
      if (w32 && f7 === 1 && [1, 2, 3].includes(f3)) { k--; continue; }
      items.push({ word: R(f7, anyReg(), anyReg(), f3, reg(), w32 ? 0x3b : 0x33) });
    } else if (kind < 50) {
      // OP-IMM and OP-IMM-32.
      const f3 = next() % 8;
      const w32 = next() % 3 === 0;
      let imm = ((next() % 4096) - 2048);
      if (f3 === 1 || f3 === 5) imm = (w32 ? next() % 32 : next() % 64) | (f3 === 5 && next() % 2 ? 0x400 : 0);
      if (w32 && f3 !== 0 && f3 !== 1 && f3 !== 5) { k--; continue; }
      items.push({ word: I(imm, anyReg(), f3, reg(), w32 ? 0x1b : 0x13) });
    } else if (kind < 54) {
      items.push({ word: U(next(), reg(), next() % 2 ? 0x37 : 0x17) });
    } else if (kind < 70) {
      // Loads and stores around the data page boundary: misaligned, page-crossing, TLB misses.
      const off = next() % 4 === 0 ? -8 + (next() % 16) : (next() % 4096) - 2048;
      const base = opts.mmio && next() % 10 === 0 ? S3 : S0;
      if (next() % 2) items.push({ word: I(off, base, pick([0, 1, 2, 3, 4, 5, 6]), reg(), 0x03) });
      else items.push({ word: S(off, anyReg(), base, next() % 4) });
    } else if (kind < 82) {
      items.push({ branch: next() % 8, rs1: anyReg(), rs2: anyReg(), skip: 1 + (next() % 4) });
    } else if (kind < 88) {
      // Compressed: c.addi, c.li, c.mv, c.add, c.slli (RVC quadrants 1 and 2), c.nop.
      const rd = 1 + (next() % 31);
      if (rd === S0 || rd === S1 || rd === S2 || rd === S3) { k--; continue; }
      const rs = 1 + (next() % 31);
      const imm6 = next() % 64;
      items.push({ half: pick([
        0x0001 | ((imm6 & 0x20) << 7) | (rd << 7) | ((imm6 & 0x1f) << 2), // c.addi
        0x4001 | ((imm6 & 0x20) << 7) | (rd << 7) | ((imm6 & 0x1f) << 2), // c.li
        0x8002 | (rd << 7) | (rs << 2), // c.mv
        0x9002 | (rd << 7) | (rs << 2), // c.add
        0x0002 | ((imm6 & 0x20) << 7) | (rd << 7) | (((imm6 & 0x1f) || 1) << 2), // c.slli
        0x0001, // c.nop
      ]) });
    } else if (kind < 92) {
      // Ops that end a block: rdinstret, csrrw sscratch, fence, fence.i, amoadd.d on the data page.
      items.push({ word: pick([
        I(0xc02, 0, 2, reg(), 0x73), I(0x140, anyReg(), 1, reg(), 0x73), I(0xc00, 0, 2, reg(), 0x73),
        0x0ff0000f, 0x0000100f, R(0, anyReg(), S0, 3, reg(), 0x2f),
      ]) });
    } else if (kind < 94) {
      items.push({ word: 0x00000073 }); // ecall: an SBI stop
    } else if (opts.smc && kind < 98) {
      // A store into the code (random offset): self-modifying code, compiled blocks invalidated.
      items.push({ word: S((next() % 256) & ~1, anyReg(), S2, next() % 4) });
    } else if (next() % 2) {
      items.push({ word: I((next() % 64) - 32, S0, 0, S0 === 8 ? reg() : 0, 0x13) }); // addi rd, s0, imm
    } else {
      // jalr rd, off(s2): an indirect jump or call to somewhere early in the code (s2 = its start),
      // usually a block start; rd = x0 (a plain jump), ra or any free register.
      items.push({ word: I((next() % 320) & ~(next() % 2 ? 3 : 1), S2, 0, pick([0, 1, reg()]), 0x67) });
    }
  }
  // Loop: addi s1, s1, -1; bne s1, x0, top; then jump back to the start forever.
  items.push({ word: I(-1, S1, 0, S1, 0x13) });
  const bytes: number[] = [];
  const at: number[] = [];
  let pc = 0;
  for (const it of items) { at.push(pc); pc += 'half' in it ? 2 : 4; }
  at.push(pc);
  const loopBranch = pc;
  pc += 4;
  const push32 = (w: number) => { for (let b = 0; b < 4; b++) bytes.push((w >>> (8 * b)) & 255); };
  items.forEach((it, idx) => {
    if ('half' in it) { bytes.push(it.half & 255, (it.half >>> 8) & 255); return; }
    if ('word' in it) { push32(it.word); return; }
    const target = at[Math.min(idx + 1 + it.skip, items.length)];
    const f3 = [0, 1, 4, 5, 6, 7][it.branch % 6];
    push32(B(target - at[idx], it.rs2, it.rs1, f3));
  });
  push32(B(-loopBranch, 0, S1, 1)); // bne s1, x0, 0
  push32(J(-pc, 0)); // j 0
  return new Uint8Array(bytes);
}

/** Trap handler at BASE + 0x3000: sepc += 4 (a 2-byte instruction then runs from its middle,
 * which both harts do the same way); sret. */
function handler(): number[] {
  return [I(0x141, 0, 2, 31, 0x73), I(4, 31, 0, 31, 0x13), I(0x141, 31, 1, 0, 0x73), 0x10200073];
}

function runDiff(seed: number, opts: { smc: boolean; mmio: boolean; threshold: number; dirty: boolean; mode: JitMode; outsideArena?: boolean }): number {
  const next = rng(seed * 0x9e3779b9);
  const ram = ramRegion(BASE, RAM_SIZE, { dirty: opts.dirty });
  ram.bytes.set(program(next, opts));
  handler().forEach((w, k) => ram.view.setUint32(0x3000 + 4 * k, w, true));
  for (let o = 0x10000; o < 0x20000; o += 4) ram.view.setUint32(o, next(), true);
  const init = Array.from({ length: 32 }, () => BigInt(next()) | (BigInt(next()) << 32n));
  const pair = hartPair([ram], (h) => {
    h.pc = BigInt(BASE);
    for (let r = 1; r < 32; r++) h.setX(r, init[r]);
    h.setX(S0, BigInt(DATA + 0x8000));
    h.setX(S1, 1_000_000n);
    h.setX(S2, BigInt(BASE));
    h.setX(S3, BigInt(MMIO));
    h.setCsr(0x105, BigInt(BASE + 0x3000));
    h.setCsr(0x104, 0x222n);
  }, opts.threshold, { mode: opts.mode, outsideArena: opts.outsideArena });
  expectSame(pair, `seed ${seed} start`);
  let total = 0;
  for (let round = 0; round < 400 && total < 60_000; round++) {
    const budget = 1 + (next() % (round % 7 === 0 ? 2000 : 150));
    const a = pair.interp.run(budget);
    const b = pair.jit.run(budget);
    const context = `seed ${seed} round ${round} (budget ${budget})`;
    expect(b, `${context}: stop reason`).toBe(a);
    expectSame(pair, context);
    for (const h of [pair.interp, pair.jit]) {
      switch (a) {
        case StopReason.EcallS: h.pc += 4n; break;
        case StopReason.Mmio: h.completeMmio(h.mmio.isWrite ? undefined : 0x1234_5678_9abc_def0n); break;
        case StopReason.FetchFault: case StopReason.MisalignedMmio: h.pc = BigInt(BASE); break;
        default: break;
      }
      if (round % 50 === 25) h.setPending(IRQ_S_TIMER, round % 100 === 25);
    }
    total = pair.interp.instret;
  }
  return pair.jit.jitCompiled;
}

describe.each(JIT_MODES)('%s compiled blocks vs the interpreter, random instruction streams', (mode) => {
  it('agree on the whole architectural state after every run (compile at first entry)', () => {
    let compiled = 0;
    for (let seed = 1; seed <= 20; seed++) compiled += runDiff(seed, { smc: false, mmio: seed % 3 === 0, threshold: 1, dirty: seed % 4 === 0, mode });
    expect(compiled).toBeGreaterThan(100); // the compiler really ran
  });

  it('agree with self-modifying code (stores into compiled blocks) and the default threshold', () => {
    let compiled = 0;
    for (let seed = 101; seed <= 120; seed++) compiled += runDiff(seed, { smc: true, mmio: seed % 2 === 0, threshold: seed % 2 ? 1 : 8, dirty: false, mode });
    expect(compiled).toBeGreaterThan(100);
  });

  it('agree when the RAM is outside the compiling hart\'s arena (every compiled access side-exits)', () => {
    let compiled = 0;
    for (let seed = 201; seed <= 210; seed++) compiled += runDiff(seed, { smc: seed % 2 === 0, mmio: seed % 3 === 0, threshold: 1, dirty: false, mode, outsideArena: true });
    expect(compiled).toBeGreaterThan(50);
  });
});
