/**
 * The contract between the emulated hart (lib/backend/emulator/cpu/hart.ts, "the CPU") and the
 * software-KVM layer (lib/backend/emulator/*.ts, "the hypervisor"), mirroring the split between a
 * RISC-V core with the H extension and arch/riscv/kvm:
 *
 *   - The CPU executes the guest in S and U mode (the guest's view of VS/VU), does Sv39/Sv48 paging,
 *     takes every trap and interrupt that the guest itself handles, and *stops* (returns from
 *     run()) exactly where a real hart would trap to HS mode and KVM would act: an ecall from S mode,
 *     an access to a guest physical address outside RAM, a wfi, an unhandled fetch, or the end of the
 *     instruction budget.
 *   - The hypervisor turns those stops into in-kernel SBI handling or exits to user space, and owns
 *     time, the timer, HSM state and the scheduling of several harts.
 *
 * Register storage is fixed so both sides (and the FPU) can touch it without calls on the hot path:
 *   x: Int32Array(64)   x[2n] = low 32 bits of x_n, x[2n+1] = high 32 bits; x0 always reads 0.
 *   f: Int32Array(64)   raw bits of f_n, same lo/hi layout; single-precision values are NaN-boxed
 *                       (high word all ones) per the F extension §"NaN boxing".
 */

import type { Arena } from './arena.js';

/** Why Hart.run() returned. */
export const enum StopReason {
  /** The instruction budget ran out; nothing to do. */
  Budget = 0,
  /** ecall from S mode: an SBI call. pc is still on the ecall; a0..a7 hold the call. The hypervisor
   * writes a0/a1 and advances pc by 4 (or leaves it for a forwarded call until completion). */
  EcallS = 1,
  /** A load or store to a guest physical address outside every RAM region (or a store to a
   * read-only region). Details in hart.mmio. pc is on the instruction. */
  Mmio = 2,
  /** wfi retired (pc already advanced). The hypervisor blocks the hart until an interrupt is
   * pending in sip & sie (regardless of sstatus.SIE, priv spec §3.3.3). */
  Wfi = 3,
  /** An instruction fetch from a guest physical address outside RAM: KVM fails KVM_RUN with
   * EOPNOTSUPP. pc is the faulting address. */
  FetchFault = 4,
  /** A misaligned access to non-RAM: KVM fails KVM_RUN with EIO. */
  MisalignedMmio = 5,
  /** A CSR access KVM routes to user space (seed, when the guest has Zkr). Details in hart.csrExit. */
  CsrExit = 6,
  /** The hart asked the hypervisor to stop early (stopRequested was set during the slice). */
  Requested = 7,
}

/** A RAM region as the CPU sees it. The hypervisor builds the list from the VM's memory slots. */
export interface RamRegion {
  /** Guest physical base; regions are kept below 2^53 so a number is exact. */
  base: number;
  size: number;
  bytes: Uint8Array;
  view: DataView;
  readonly: boolean;
  /** One bit per 4 KiB page, set by the CPU on every store when dirty logging is on; else null.
   * The CPU never caches store translations into a region with a dirty bitmap, so clearing bits
   * needs no TLB flush; switching dirty logging on or off goes through setRam(). */
  dirty: Uint8Array | null;
  /** The arena (arena.ts) holding `bytes`, and their address in it: set when the region was
   * allocated there, so compiled WebAssembly blocks may access it directly. A hart trusts them only
   * after checking `bytes`/`view` really are that memory at that address; else (absent, or a
   * region built elsewhere) compiled code side-exits on the region's pages. */
  arena?: Arena | null;
  arenaAddr?: number;
}

/** Filled in when run() returns StopReason.Mmio. */
export interface MmioAccess {
  address: bigint;
  length: 1 | 2 | 4 | 8;
  isWrite: boolean;
  /** Store data (low `length` bytes meaningful). */
  data: bigint;
  /** Destination register of a load, and how to extend the loaded value. */
  rd: number;
  signed: boolean;
  /** 2 for compressed instructions, else 4. */
  insnLength: 2 | 4;
}

/** Filled in when run() returns StopReason.CsrExit (priv spec §2.1 csrrw/csrrs/csrrc semantics,
 * reported as KVM does, kvm-riscv-abi.md §2.5). */
export interface CsrAccess {
  csrNum: number;
  newValue: bigint;
  writeMask: bigint;
  rd: number;
}

/** sip/sie bit numbers (priv spec §4.1.3). */
export const IRQ_S_SOFT = 1;
export const IRQ_S_TIMER = 5;
export const IRQ_S_EXT = 9;

/** The environment the hypervisor gives each hart. */
export interface HartEnv {
  /** Current guest `time` (the hypervisor decides how time advances). Read by rdtime. */
  readTime(): bigint;
  /** RAM regions, sorted by base. The hypervisor calls hart.setRam() when slots change. */
}

/**
 * What the hypervisor may use on a hart. The CPU implements it in hart.ts as `class Hart`.
 * Constructor: new Hart(hartId: number, env: HartEnv).
 */
export interface HartApi {
  readonly hartId: number;
  readonly x: Int32Array;
  readonly f: Int32Array;
  pc: bigint;
  /** 1 = S mode, 0 = U mode (ONE_REG core.mode). */
  mode: number;
  /** Instructions retired since reset (cycle and instret read from it). */
  instret: number;
  mmio: MmioAccess;
  csrExit: CsrAccess;
  /** Set from outside (another hart's SBI call, stop()) to make run() return StopReason.Requested
   * at the next instruction boundary. Cleared by run() when it returns. */
  stopRequested: boolean;
  /** The guest has Zkr: a `seed` CSR access stops with StopReason.CsrExit (KVM forwards it to user
   * space) instead of raising an illegal-instruction exception. Default false. */
  zkr: boolean;

  /** Execute until a stop; at most `budget` instructions. */
  run(budget: number): StopReason;
  /** Replace the RAM map (sorted by base, non-overlapping). Flushes the TLB. */
  setRam(regions: RamRegion[]): void;
  /** Complete a load stop: write rd (extended per mmio.signed/length) and advance pc. For a store
   * stop, call with no value to just advance pc. */
  completeMmio(value?: bigint): void;
  /** Complete a CSR stop: write rd with the old value and advance pc by 4. */
  completeCsr(value: bigint): void;
  /** x register n as u64 / set it (writes to x0 are ignored). */
  getX(n: number): bigint;
  setX(n: number, value: bigint): void;
  /** Raw bits of f register n / set them. */
  getF(n: number): bigint;
  setF(n: number, bits: bigint): void;
  fcsr: number;
  /** Supervisor CSRs by number (sstatus 0x100, sie 0x104, stvec 0x105, scounteren 0x106,
   * senvcfg 0x10a, sscratch 0x140, sepc 0x141, scause 0x142, stval 0x143, sip 0x144, satp 0x180).
   * Used for ONE_REG; writes go through the same WARL rules as csrw. */
  getCsr(num: number): bigint;
  setCsr(num: number, value: bigint): void;
  /** Set or clear a pending interrupt bit driven from outside: IRQ_S_TIMER (the hypervisor's
   * timer), IRQ_S_EXT (KVM_INTERRUPT), IRQ_S_SOFT (an SBI IPI). */
  setPending(bit: number, level: boolean): void;
  /** True when an enabled interrupt is pending in sip & sie (what ends a wfi). */
  interruptPending(): boolean;
  /** Drop all cached translations (sfence.vma from a remote hart, satp change). */
  flushTlb(): void;
  /** Drop decoded/compiled code (fence.i, remote fence.i, code written). */
  flushCode(): void;
  /** Reset to KVM's vCPU reset state: pc 0, x = 0, f = 0, sstatus = SPP|SPIE, scounteren = 7,
   * other CSRs 0, mode S, nothing pending. */
  reset(): void;
}
