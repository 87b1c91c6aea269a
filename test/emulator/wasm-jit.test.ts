/**
 * What is new with the WebAssembly block compiler (cpu/wasm-jit.ts) and its arena (cpu/arena.ts):
 * the binary encoder, the arena allocator, M-extension division corner cases (where a WebAssembly
 * division would trap), loads and stores of every width at the last bytes of a page, regions the
 * compiled code must not address directly, and self-modifying code with WebAssembly blocks. Each
 * program runs on the interpreter, the JS compiler and the WebAssembly compiler; all must agree.
 */
import { describe, expect, it } from 'vitest';
import { Arena } from '../../lib/backend/emulator/cpu/arena.js';
import { TLB_ARENA_BYTES, TLB_MASK, Tlb } from '../../lib/backend/emulator/cpu/tlb.js';
import { ByteWriter, blockModule, I32, W } from '../../lib/backend/emulator/cpu/wasm-encoder.js';
import { MAX_GROUP_INSNS, wasmStats } from '../../lib/backend/emulator/cpu/wasm-jit.js';
import type { JitMode } from '../../lib/backend/emulator/cpu/hart.js';
import { Hart } from '../../lib/backend/emulator/cpu/hart.js';
import { BASE, R, StopReason, machine, runToStop, type Machine } from './cpu-harness.js';
import { archState, cloneRegion } from './diff-support.js';

const wasmValidate = (bytes: Uint8Array): boolean =>
  (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes);

describe('wasm-encoder', () => {
  it('writes LEB128 as the binary format says (§5.2.2)', () => {
    const u = (v: number) => [...new ByteWriter().u32(v).finish()];
    const s = (v: number) => [...new ByteWriter().s32(v).finish()];
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([127]);
    expect(u(128)).toEqual([0x80, 1]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(u(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(s(0)).toEqual([0]);
    expect(s(63)).toEqual([63]);
    expect(s(64)).toEqual([0xc0, 0]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-65)).toEqual([0xbf, 0x7f]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(s(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().s32(2 ** 31)).toThrow(RangeError);
  });

  it('builds modules that validate and run', () => {
    const code = new ByteWriter().get(0).get(1).op(W.i32_add).get(2).op(W.i32_mul).op(W.end);
    const bytes = blockModule([{ locals: [[1, I32]], code }, { locals: [], code: new ByteWriter().get(2).op(W.end) }]);
    expect(wasmValidate(bytes)).toBe(true);
    const arena = new Arena(2);
    const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: Record<string, (a: number, b: number, c: number) => number> }; Module: new (b: Uint8Array) => object } }).WebAssembly;
    const inst = new WA.Instance(new WA.Module(bytes), { m: { m: arena.memory } });
    expect(inst.exports.f0(2, 3, 7)).toBe(35);
    expect(inst.exports.f1(2, 3, 7)).toBe(7);
  });
});

describe('arena', () => {
  it('hands out page-aligned zeroed ranges, reuses freed ones zeroed, and refuses past its maximum', () => {
    const arena = new Arena(4); // 256 KiB
    const a = arena.alloc(100);
    const b = arena.alloc(8192);
    expect(a).toBeGreaterThan(0); // 0 means "not in the arena"
    expect(a % 4096).toBe(0);
    expect(b).toBe(a + 4096);
    new Uint8Array(arena.buffer, b, 8192).fill(0xaa);
    arena.free(b, 8192);
    const c = arena.alloc(4096);
    expect(c).toBe(b);
    expect(new Uint8Array(arena.buffer, c, 4096).every((x) => x === 0)).toBe(true);
    new Uint8Array(arena.buffer, a, 4096).fill(0x55);
    arena.free(a, 100);
    const d = arena.alloc(4096); // first fit: a's range, zeroed again
    expect(d).toBe(a);
    expect(new Uint8Array(arena.buffer, d, 4096).every((x) => x === 0)).toBe(true);
    expect(arena.alloc(4 * 65536)).toBe(-1);
    expect(arena.alloc(0)).toBe(-1);
    expect(arena.alloc(-5)).toBe(-1);
  });

  it('old views stay valid when the memory grows, and owns() knows its buffers', () => {
    const arena = new Arena(64);
    const a = arena.alloc(4096);
    const view = new Int32Array(arena.buffer, a, 4);
    view[0] = 1234;
    const big = arena.alloc(1 << 20);
    expect(big).toBeGreaterThan(0);
    expect(view[0]).toBe(1234);
    expect(new Int32Array(arena.buffer, a, 1)[0]).toBe(1234);
    expect(arena.owns(view.buffer)).toBe(true);
    expect(arena.owns(new ArrayBuffer(8))).toBe(false);
    expect(arena.owns(new Arena(1).buffer)).toBe(false);
  });
});

describe('TLB arrays for compiled code', () => {
  it('live in the given arena storage, and copyFrom (privilege-mode parking) carries the page addresses', () => {
    const arena = new Arena(2);
    const at = arena.alloc(TLB_ARENA_BYTES);
    const live = new Tlb(new DataView(new ArrayBuffer(8)), arena.int32(at, TLB_ARENA_BYTES / 4));
    const view = new DataView(new ArrayBuffer(8192));
    live.fill(0x5000, 0, view, 0, 4096, 0x12000);
    const t = (0x5000 >>> 12) & TLB_MASK;
    // The arrays are the arena's memory: what a WebAssembly block reads at these addresses.
    expect(new Int32Array(arena.buffer, at, 4 * 1024)[3 * 1024 + t]).toBe(0x12000);
    const parked = new Tlb(view);
    parked.copyFrom(live);
    live.fill(0x5000 + 1024 * 4096, 0, view, 0, 0, 0x34000); // same slot, another page
    expect(live.addr[t]).toBe(0x34000);
    live.copyFrom(parked);
    expect(live.tagLo[t]).toBe(0x5000);
    expect(live.addr[t]).toBe(0x12000); // not the other page's address under the old tag
  });
});

type Mode = JitMode | 'interp';
const MODES: Mode[] = ['interp', 'js', 'wasm'];

function runAll(source: string, check?: (m: Machine, mode: Mode) => void, size?: number): Map<Mode, Machine> {
  const out = new Map<Mode, Machine>();
  for (const mode of MODES) {
    const m = machine(source, { jitMode: mode === 'interp' ? 'js' : mode, size });
    m.hart.jit = mode !== 'interp';
    m.hart.jitThreshold = 1;
    const before = wasmStats.blocks;
    expect(runToStop(m.hart), `${mode}: stops at the ecall`).toBe(StopReason.EcallS);
    if (mode === 'wasm') expect(wasmStats.blocks, 'WebAssembly blocks were compiled').toBeGreaterThan(before);
    check?.(m, mode);
    out.set(mode, m);
  }
  const ref = out.get('interp') as Machine;
  for (const mode of ['js', 'wasm'] as const) {
    const m = out.get(mode) as Machine;
    expect(archState(m.hart), `${mode}: architectural state`).toEqual(archState(ref.hart));
    expect(Buffer.compare(m.ram.bytes, ref.ram.bytes), `${mode}: RAM`).toBe(0);
  }
  return out;
}

describe('WebAssembly blocks vs the interpreter', () => {
  it('DIV/DIVU/REM/REMU, the W forms and MULH* on every corner case (unpriv spec §13) without trapping', () => {
    const values = ['0', '1', '-1', '2', '-2', '7', '-7', '0x7fffffffffffffff', '0x8000000000000000', '0x7fffffff',
      '0x80000000', '0xffffffff', '-0x80000000', '0x100000000', '0xffffffff80000000'];
    const ops = ['div', 'divu', 'rem', 'remu', 'divw', 'divuw', 'remw', 'remuw', 'mulh', 'mulhsu', 'mulhu', 'mul'];
    // One straight-line block per (a, b): compute all eight ops and store them.
    let body = '';
    for (const a of values) {
      for (const b of values) {
        body += `  li t0, ${a}\n  li t1, ${b}\n`;
        for (const op of ops) body += `  ${op} t2, t0, t1\n  sd t2, 0(s0)\n  addi s0, s0, 8\n`;
      }
    }
    const src = `  .option norvc\n  la s0, out\n${body}  ecall\n  .balign 4096\nout:\n`;
    const runs = runAll(src, undefined, 1 << 20);
    // Spot checks against the spec's table, on the WebAssembly run.
    const m = runs.get('wasm') as Machine;
    const outAt = (ai: number, bi: number, oi: number) => {
      const base = m.ram.bytes.length - (1 << 20) + Number(m.hart.getX(R.s0) - BigInt(BASE)) - values.length * values.length * ops.length * 8;
      return new DataView(m.ram.bytes.buffer, m.ram.bytes.byteOffset).getBigUint64(base + ((ai * values.length + bi) * ops.length + oi) * 8, true);
    };
    const ai = (v: string) => values.indexOf(v);
    const MIN = 0x8000000000000000n, ALL = 0xffffffffffffffffn;
    expect(outAt(ai('7'), ai('0'), 0)).toBe(ALL); // div x/0 = -1
    expect(outAt(ai('7'), ai('0'), 1)).toBe(ALL); // divu x/0 = 2^64-1
    expect(outAt(ai('7'), ai('0'), 2)).toBe(7n); // rem x%0 = x
    expect(outAt(ai('-7'), ai('0'), 3)).toBe(ALL - 6n); // remu x%0 = x
    expect(outAt(ai('0x8000000000000000'), ai('-1'), 0)).toBe(MIN); // overflow: MIN
    expect(outAt(ai('0x8000000000000000'), ai('-1'), 2)).toBe(0n);
    expect(outAt(ai('-0x80000000'), ai('-1'), 4)).toBe(0xffffffff80000000n); // divw overflow: MIN32 sign-extended
    expect(outAt(ai('-0x80000000'), ai('-1'), 6)).toBe(0n); // remw overflow
    expect(outAt(ai('7'), ai('0'), 5)).toBe(ALL); // divuw x/0 = 2^32-1 sign-extended
    expect(outAt(ai('0xffffffff'), ai('0'), 7)).toBe(ALL); // remuw x%0 = x[31:0] sign-extended
    expect(outAt(ai('-7'), ai('2'), 0)).toBe(ALL - 2n); // -3: rounds toward zero
    expect(outAt(ai('-7'), ai('2'), 2)).toBe(ALL); // -1: sign of the dividend
    expect(outAt(ai('-1'), ai('-1'), 8)).toBe(0n); // mulh: (-1)(-1) = 1, high half 0
    expect(outAt(ai('-1'), ai('-1'), 10)).toBe(ALL - 1n); // mulhu: (2^64-1)^2 >> 64 = 2^64 - 2
    expect(outAt(ai('-1'), ai('-1'), 9)).toBe(ALL); // mulhsu: -1 * (2^64-1) = -(2^64-1), high = -1
    expect(outAt(ai('0x8000000000000000'), ai('0x8000000000000000'), 8)).toBe(1n << 62n); // 2^126 >> 64
  });

  it('loads and stores of every width at page offsets 4088..4095 (in-page ones inline, crossing ones side-exit)', () => {
    let body = '';
    const loads = ['ld', 'lw', 'lwu', 'lh', 'lhu', 'lb', 'lbu'];
    const stores = ['sd', 'sw', 'sh', 'sb'];
    for (let off = 4088; off <= 4095; off++) {
      body += `  li t0, ${off}\n  add t0, t0, s0\n`;
      for (const l of loads) body += `  ${l} t1, 0(t0)\n  add s2, s2, t1\n  slli s2, s2, 3\n  xor s2, s2, t1\n`;
      for (const st of stores) body += `  addi s3, s3, 0x123\n  slli s4, s3, 17\n  xor s4, s4, s3\n  ${st} s4, 0(t0)\n`;
      body += `  ld t1, -8(t0)\n  add s2, s2, t1\n`;
    }
    const src = `  .option norvc\n  la s0, data\n  li s3, 0x0123456789abcdef\n  li s2, 0\n${body}  ecall\n  .balign 4096\ndata:\n` +
      Array.from({ length: 1024 }, (_, k) => `  .word ${(0x9e3779b9 * (k + 1)) >>> 0}\n`).join('') +
      Array.from({ length: 1024 }, (_, k) => `  .word ${(0x85ebca6b * (k + 7)) >>> 0}\n`).join('');
    runAll(src);
  });

  it('a guest store into a WebAssembly-compiled loop, then fence.i, takes effect at once', () => {
    const src = `
      .option norvc
      li t0, 0
      li t1, 40
      la s1, patch
      lw s1, 0(s1)
      la s2, target
    loop:
      addi t0, t0, 1
      li t2, 20
      bne t0, t2, 1f
      sw s1, 0(s2)
      fence.i
    1:
    target:
      addi a0, a0, 1
      bne t0, t1, loop
      ecall
    patch:
      addi a0, a0, 100
    `;
    const runs = runAll(src);
    expect((runs.get('wasm') as Machine).hart.getX(R.a0)).toBe(19n + 21n * 100n);
  });

  it('never addresses a region that only claims to be in its arena (copied bytes keep the fields)', () => {
    // A hart with an arena, and a region whose arena/arenaAddr point into that arena but whose bytes
    // are a copy elsewhere: compiled code must side-exit (use the copy through the interpreter) and
    // leave the arena bytes at that address alone.
    const src = `
      .option norvc
      la s0, data
      li t0, 1000
    1:
      ld t1, 0(s0)
      addi t1, t1, 3
      sd t1, 0(s0)
      addi t0, t0, -1
      bnez t0, 1b
      ecall
      .balign 4096
    data:
      .dword 5
    `;
    const real = machine(src, { jitMode: 'wasm' });
    const fake = cloneRegion(real.ram);
    fake.arena = real.ram.arena;
    fake.arenaAddr = real.ram.arenaAddr;
    const hart = new Hart(1, { readTime: () => 0n }, real.ram.arena ?? undefined);
    hart.jitMode = 'wasm';
    hart.jitThreshold = 1;
    hart.setRam([fake]);
    hart.pc = BigInt(BASE);
    const arenaBefore = Buffer.from(real.ram.bytes);
    const before = wasmStats.blocks;
    expect(runToStop(hart)).toBe(StopReason.EcallS);
    expect(wasmStats.blocks).toBeGreaterThan(before);
    const dataOff = Number(hart.getX(R.s0)) - BASE;
    expect(fake.view.getBigUint64(dataOff, true)).toBe(5n + 3000n);
    expect(Buffer.compare(Buffer.from(real.ram.bytes), arenaBefore), 'arena bytes untouched').toBe(0);
  });

  it('jumps between the blocks of a page group: taken branches, fall-through, calls and returns in the page', () => {
    // A loop calling a function on the same page: the jalr (ret) and the jal back to the loop go
    // block to block inside the group's dispatch loop; budgets cut it anywhere.
    const src = `
      .option norvc
      li t1, 3000
      la s0, top
      la s1, fn
    top:
      addi t0, t0, 1
      beq t0, t1, done
      andi t2, t0, 3
      beqz t2, 1f
      jalr ra, 0(s1)
    1:
      add a1, a1, a0
      jalr x0, 0(s0)
    fn:
      addi a0, a0, 3
      xor a2, a2, a0
      ret
    done:
      ecall
    `;
    for (const threshold of [1, 2, 5, 50]) {
      const a = machine(src);
      a.hart.jit = false;
      const b = machine(src, { jitMode: 'wasm' });
      b.hart.jitThreshold = threshold;
      for (const budget of [7, 13, 100, 1000, 1, 3, 100_000]) {
        expect(b.hart.run(budget)).toBe(a.hart.run(budget));
        expect(archState(b.hart), `threshold ${threshold} budget ${budget}`).toEqual(archState(a.hart));
      }
      expect(b.hart.getX(R.t0)).toBe(3000n);
    }
  });

  it('splits a page whose hot blocks hold more than MAX_GROUP_INSNS instructions into several groups, running the same', () => {
    // Eight blocks of ~64 instructions on one page (a dispatch on t0 & 7, each case a long run of
    // adds that jumps back): ~500 instructions, more than one group may hold.
    const cases = Array.from({ length: 8 }, (_, k) => `    s${k}:\n` + `      addi a${1 + (k % 6)}, a${1 + (k % 6)}, ${k + 1}\n`.repeat(40) + '      j top\n').join('');
    const dispatch = Array.from({ length: 8 }, (_, k) => `      li t3, ${k}\n      beq t2, t3, s${k}\n`).join('');
    const src = `
      .option norvc
      li t1, 4000
    top:
      addi t0, t0, 1
      beq t0, t1, done
      andi t2, t0, 7
${dispatch}
${cases}
    done:
      ecall
    `;
    const a = machine(src);
    a.hart.jit = false;
    const b = machine(src, { jitMode: 'wasm' });
    b.hart.jitThreshold = 2;
    const blocksBefore = wasmStats.blocks;
    wasmStats.maxGroupInsns = 0;
    for (const budget of [1000, 7, 100_000, 1_000_000]) {
      expect(b.hart.run(budget)).toBe(a.hart.run(budget));
      expect(archState(b.hart), `budget ${budget}`).toEqual(archState(a.hart));
    }
    expect(b.hart.getX(R.t0)).toBe(4000n);
    expect(wasmStats.blocks - blocksBefore).toBeGreaterThanOrEqual(8);
    expect(wasmStats.maxGroupInsns).toBeGreaterThan(0);
    expect(wasmStats.maxGroupInsns).toBeLessThanOrEqual(MAX_GROUP_INSNS);
  });

  it('asks for a full GC (WasmJitEnv.collect) once every collectAfter superseded or forgotten group modules', () => {
    // A loop over a growing set of hot blocks on one page: its group is rebuilt as blocks get hot,
    // each rebuild leaving the previous module to the GC; then the code is rewritten, so the page's
    // blocks are forgotten too.
    const src = `
      .option norvc
      li t1, 3000
    top:
      addi t0, t0, 1
      beq t0, t1, done
      andi t2, t0, 3
      beqz t2, a
      li t3, 1
      beq t2, t3, b
      li t3, 2
      beq t2, t3, c
      addi a3, a3, 4
      j top
    a: addi a0, a0, 1
      j top
    b: addi a1, a1, 2
      j top
    c: addi a2, a2, 3
      j top
    done:
      ecall
    `;
    const m = machine(src, { jitMode: 'wasm' });
    m.hart.jitThreshold = 2;
    const env = (m.hart as unknown as { wasmEnv: { collect: () => void; collectAfter: number; released: number } }).wasmEnv;
    let calls = 0;
    (env as { collect: () => void }).collect = () => { calls++; };
    env.collectAfter = 2;
    const before = wasmStats.collections;
    const ref = machine(src);
    ref.hart.jit = false;
    expect(m.hart.run(1_000_000)).toBe(ref.hart.run(1_000_000));
    expect(archState(m.hart)).toEqual(archState(ref.hart));
    // One rebuild superseded the first group; one more released module triggers a collect.
    expect(env.released + 2 * calls).toBeGreaterThanOrEqual(1);
    const afterBuilds = calls;
    // The host rewrites the loop's code (the first addi) and announces it with fence.i semantics:
    // the page's decoded slots and blocks are forgotten, releasing its modules.
    for (const h of [m, ref]) {
      h.ram.view.setInt32(8, 0x00228293, true); // top: addi t0, t0, 2
      h.hart.flushCode();
      h.hart.pc = BigInt(BASE);
      h.hart.setX(R.t0, 0n);
    }
    // One instruction (no compile yet): the page is found changed and its modules released.
    const releasedBefore = env.released + 2 * calls;
    expect(m.hart.run(1)).toBe(ref.hart.run(1));
    expect(env.released + 2 * calls).toBeGreaterThan(releasedBefore);
    expect(m.hart.run(1_000_000)).toBe(ref.hart.run(1_000_000));
    expect(archState(m.hart)).toEqual(archState(ref.hart));
    expect(calls).toBeGreaterThan(afterBuilds);
    expect(wasmStats.collections - before).toBe(calls);
    expect(env.released).toBeLessThan(env.collectAfter);
  });

  it('budgets above 2^31 run the same (a block gets at most 2^31 - 1 as its int32 budget)', () => {
    const src = `
      .option norvc
      li t0, 0
      li t1, 300000
    1:
      addi t0, t0, 1
      bne t0, t1, 1b
      ecall
    `;
    const ref = machine(src);
    ref.hart.jit = false;
    expect(ref.hart.run(2 ** 40)).toBe(StopReason.EcallS);
    expect(ref.hart.instret).toBe(3 + 2 * 300000); // li t1 is lui + addi
    for (const mode of ['js', 'wasm'] as const) {
      const m = machine(src, { jitMode: mode });
      m.hart.jitThreshold = 1;
      expect(m.hart.run(2 ** 40)).toBe(StopReason.EcallS);
      expect(m.hart.getX(R.t0)).toBe(300000n);
      expect(m.hart.instret).toBe(ref.hart.instret);
      expect(m.hart.pc).toBe(ref.hart.pc);
    }
  });
});
