/**
 * The block compiler (cpu/jit.ts) inside the hart: blocks are really compiled and used, budgets and
 * instret stay exact, code written by the guest or the host (then fence.i / flushCode) replaces
 * compiled blocks, and side exits hand slow accesses to the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { blockSource, MAX_BLOCK, NO_BLOCK } from '../../lib/backend/emulator/cpu/jit.js';
import { newDecodedSlots, setSlot } from '../../lib/backend/emulator/cpu/decoded-slots.js';
import { readFileSync } from 'node:fs';
import { decode32, decoded } from '../../lib/backend/emulator/cpu/decode.js';
import { R, StopReason, machine, runToStop } from './cpu-harness.js';
import { JIT_MODES } from './diff-support.js';

const LOOP = `
  .option norvc
  li t0, 0
  li t1, 100000
loop:
  addi t0, t0, 1
  xor a0, a0, t0
  slli a1, a0, 7
  add a2, a2, a1
  bne t0, t1, loop
  ecall
`;

describe.each(JIT_MODES)('%s compiled blocks in the hart', (mode) => {
  it('compiles a hot loop and gets the interpreter\'s results', () => {
    const a = machine(LOOP, { jitMode: mode });
    const b = machine(LOOP, { jitMode: mode });
    a.hart.jit = false;
    b.hart.jitThreshold = 1000;
    b.hart.jit = true;
    expect(runToStop(a.hart)).toBe(StopReason.EcallS);
    expect(runToStop(b.hart)).toBe(StopReason.EcallS);
    expect(a.hart.jitCompiled).toBe(0);
    expect(b.hart.jitCompiled).toBeGreaterThan(0);
    for (const r of [R.t0, R.a0, R.a1, R.a2]) expect(b.hart.getX(r), `x${r}`).toBe(a.hart.getX(r));
    expect(b.hart.instret).toBe(a.hart.instret);
    expect(b.hart.pc).toBe(a.hart.pc);
  });

  it('never runs past the budget: every run() retires exactly its budget inside a compiled loop', () => {
    const m = machine(LOOP, { jitMode: mode });
    m.hart.jitThreshold = 1;
    let total = 0;
    for (const budget of [1, 2, 3, 5, 7, 11, 64, 65, 1000, 3, 1]) {
      expect(m.hart.run(budget)).toBe(StopReason.Budget);
      total += budget;
      expect(m.hart.instret).toBe(total);
    }
    expect(m.hart.jitCompiled).toBeGreaterThan(0);
  });

  it('a guest store into a compiled loop takes effect at once (self-modifying code)', () => {
    // The loop body's "addi a0, a0, 1" is overwritten with "addi a0, a0, 100" after 10 passes; a
    // store to code must drop the compiled block (same page: the store is a side exit).
    const m = machine(`
      .option norvc
      li t0, 0
      li t1, 20
      la s0, patch
      lw s1, 0(s0)        # the replacement instruction word
      la s2, target
    loop:
      addi t0, t0, 1
      li t2, 10
      bne t0, t2, 1f
      sw s1, 0(s2)        # overwrite 'target'
      fence.i
    1:
    target:
      addi a0, a0, 1
      bne t0, t1, loop
      ecall
    patch:
      addi a0, a0, 100
    `);
    m.hart.jitThreshold = 1;
    expect(runToStop(m.hart)).toBe(StopReason.EcallS);
    expect(m.hart.getX(R.a0)).toBe(9n + 11n * 100n);
    expect(m.hart.jitCompiled).toBeGreaterThan(0);
  });

  it('host writes to code are seen after flushCode (what fence.i and KVM do)', () => {
    const m = machine(LOOP, { jitMode: mode });
    m.hart.jitThreshold = 1;
    expect(m.hart.run(5000)).toBe(StopReason.Budget);
    const compiled = m.hart.jitCompiled;
    expect(compiled).toBeGreaterThan(0);
    // Replace "xor a0, a0, t0" with "addi a0, a0, 0": from then on a0 must stay put.
    const words = new Uint32Array(m.ram.bytes.buffer, m.ram.bytes.byteOffset, 16);
    const xorAt = [...words].findIndex((w) => (w & 0xfe00707f) === 0x00004033 && ((w >>> 7) & 31) === R.a0);
    expect(xorAt).toBeGreaterThan(0);
    m.ram.view.setUint32(xorAt * 4, 0x00050513, true); // addi a0, a0, 0
    m.hart.flushCode();
    const a0 = m.hart.getX(R.a0);
    expect(m.hart.run(5000)).toBe(StopReason.Budget);
    expect(m.hart.getX(R.a0)).toBe(a0);
    expect(m.hart.jitCompiled).toBeGreaterThan(compiled); // recompiled
  });

  it('flushCode keeps decoded code and blocks whose bytes did not change (Linux fence.i storms)', () => {
    // Same runs with and without flushCode in between: the same blocks get compiled, none twice.
    const m = machine(LOOP, { jitMode: mode });
    const control = machine(LOOP, { jitMode: mode });
    for (const h of [m.hart, control.hart]) h.jitThreshold = 1;
    for (let k = 0; k < 6; k++) {
      m.hart.flushCode();
      expect(m.hart.run(k === 0 ? 5000 : 1000)).toBe(StopReason.Budget);
      expect(control.hart.run(k === 0 ? 5000 : 1000)).toBe(StopReason.Budget);
    }
    expect(m.hart.jitCompiled).toBe(control.hart.jitCompiled);
    expect(m.hart.getX(R.a2)).toBe(control.hart.getX(R.a2));
    const compiled = m.hart.jitCompiled;
    // A host write then flushCode: the page is decoded and compiled again, and the write is seen.
    const words = new Uint32Array(m.ram.bytes.buffer, m.ram.bytes.byteOffset, 16);
    const slliAt = [...words].findIndex((w) => (w & 0xfc00707f) === 0x00001013 && ((w >>> 7) & 31) === R.a1);
    expect(slliAt).toBeGreaterThan(0);
    m.ram.view.setUint32(slliAt * 4, 0x00000593, true); // li a1, 0
    m.hart.flushCode();
    const a2 = m.hart.getX(R.a2);
    expect(m.hart.run(1000)).toBe(StopReason.Budget);
    expect(m.hart.getX(R.a2)).toBe(a2); // a2 += a1 adds 0 now
    expect(m.hart.jitCompiled).toBeGreaterThan(compiled);
  });

  it('loads and stores that miss the TLB, cross a page or hit MMIO leave the block exactly there', () => {
    const src = `
      li t0, 0
      li t1, 50
      la s0, data
      li s2, 4092
      add s2, s2, s0
      li s1, 0x10000000   # not RAM: MMIO
    loop:
      ld a0, 0(s2)        # crosses into the next page
      addi t0, t0, 1
      sd a0, 0(s0)
      lw a1, 0(s1)        # MMIO load: the hart stops
      add a2, a2, a1
      bne t0, t1, loop
      ecall
      .balign 4096
    data:
      .dword 0x1122334455667788
      .skip 4088
      .dword 0x99aabbccddeeff00
    `;
    const a = machine(src, { jitMode: mode });
    const b = machine(src, { jitMode: mode });
    a.hart.jit = false;
    b.hart.jitThreshold = 1;
    let mmio = 0;
    for (;;) {
      const ra = runToStop(a.hart), rb = runToStop(b.hart);
      expect(rb).toBe(ra);
      expect(b.hart.pc).toBe(a.hart.pc);
      expect(b.hart.instret).toBe(a.hart.instret);
      if (ra !== StopReason.Mmio) break;
      mmio++;
      a.hart.completeMmio(BigInt(mmio));
      b.hart.completeMmio(BigInt(mmio));
    }
    expect(mmio).toBe(50);
    expect(b.hart.getX(R.a2)).toBe(a.hart.getX(R.a2));
    expect(b.hart.getX(R.a2)).toBe(BigInt((50 * 51) / 2));
    expect(Buffer.compare(a.ram.bytes, b.ram.bytes)).toBe(0);
  });

});

describe('the JS block compiler', () => {
  it('hart.ts repeats jit.ts NO_BLOCK as a local literal with the same value', () => {
    const src = readFileSync(new URL('../../lib/backend/emulator/cpu/hart.ts', import.meta.url), 'utf8');
    expect(src).toMatch(new RegExp(`const NO_BLOCK = 0x${NO_BLOCK.toString(16)};`));
  });

  it('blocks end before ops they do not compile and hold at most MAX_BLOCK instructions', () => {
    // 200 x "addi a0, a0, 1" then csrr: blocks of MAX_BLOCK, nothing past the end of the page.
    const slots = newDecodedSlots();
    const put = (i: number, insn: number) => { decode32(insn); setSlot(slots, i, decoded.word, decoded.imm); };
    for (let i = 0; i < 400; i += 2) put(i, 0x00150513); // addi a0, a0, 1
    put(400, 0xc0202573); // rdinstret a0
    const first = blockSource(slots, 0, () => {});
    expect(first?.length).toBe(MAX_BLOCK);
    const last = blockSource(slots, 400 - 2 * 10, () => {});
    expect(last?.length).toBe(10);
    expect(blockSource(slots, 400, () => {})).toBeNull();
  });
});
