/**
 * Minimal harness for CPU tests: a Hart over one RAM region, no hypervisor. Programs are assembled
 * at BASE with the cross assembler (test/support/rvasm.ts).
 */
import { Hart, type JitMode } from '../../lib/backend/emulator/cpu/hart.js';
import { Arena } from '../../lib/backend/emulator/cpu/arena.js';
import { StopReason } from '../../lib/backend/emulator/cpu/contract.js';
import { assemble, ramRegion } from '../support/rvasm.js';
import type { RamRegion } from '../../lib/backend/emulator/cpu/contract.js';

export const BASE = 0x8000_0000;
export { StopReason };

export interface Machine {
  hart: Hart;
  ram: RamRegion;
  time: { now: bigint };
}

export interface MachineOptions {
  size?: number;
  extra?: RamRegion[];
  /** Give the hart an arena of its own with the RAM in it (as a VM does), and this block compiler. */
  jitMode?: JitMode;
}

export function machine(source: string, opts: MachineOptions = {}): Machine {
  const size = opts.size ?? 1 << 20;
  let ram = ramRegion(BASE, size);
  let arena: Arena | undefined;
  if (opts.jitMode !== undefined) {
    arena = new Arena(Math.ceil(size / 65536) + 2);
    const addr = arena.alloc(size);
    ram = { ...ram, bytes: new Uint8Array(arena.buffer, addr, size), view: new DataView(arena.buffer, addr, size), arena, arenaAddr: addr };
  }
  ram.bytes.set(assemble(source, BASE));
  const time = { now: 0n };
  const hart = new Hart(0, { readTime: () => time.now }, arena);
  if (opts.jitMode !== undefined) hart.jitMode = opts.jitMode;
  hart.setRam([...(opts.extra ?? []).filter((r) => r.base < BASE), ram, ...(opts.extra ?? []).filter((r) => r.base > BASE)]);
  hart.pc = BigInt(BASE);
  return { hart, ram, time };
}

/** Run until a stop other than the budget (bounded). */
export function runToStop(hart: Hart, limit = 1_000_000): StopReason {
  let total = 0;
  for (;;) {
    const r = hart.run(10_000);
    if (r !== StopReason.Budget) return r;
    total += 10_000;
    if (total >= limit) return r;
  }
}

/** Register numbers by ABI name. */
export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9,
  a0: 10, a1: 11, a2: 12, a3: 13, a4: 14, a5: 15, a6: 16, a7: 17,
  s2: 18, s3: 19, s4: 20, s5: 21, t3: 28, t4: 29, t5: 30, t6: 31,
} as const;

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Program prologue: stvec = `handler` (at BASE + 16), whose ecall stops run() so a test can
 * inspect the trap it took; `body` starts at BASE + 32. */
export const withHandler = (body: string): string => `
  .option norvc
  j 1f
  .balign 16
handler:
  ecall
1:
  la t0, handler
  csrw stvec, t0
  ${body}
`;
