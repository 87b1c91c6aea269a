/**
 * One-time JIT warm-up of the emulator: before the first emulated VM of a process exists, run a
 * small guest (guest/warmup/warmup.S, checked in as warmup-image.ts) on a throwaway VM, so V8
 * collects type feedback for every path of the interpreter loop (cpu/hart.ts Hart.run) and of the
 * software KVM around it before it optimises them.
 *
 * Why: Hart.run is one big function. Without this, V8 optimises it early in a Linux boot, then
 * deoptimises it each time the guest first takes another path (a shift by >= 32, a DIVW, a product
 * past 2^31, a second compiled block at the block call site...) and optimises it again, ~30 times
 * per boot, each compile tens of milliseconds on a background thread that competes with the guest
 * on a small host. A boot with warm feedback is ~0.5-1.4 s faster (README "Linux boot").
 *
 * Where it is hooked (hypervisor.ts createVm): synchronously, before the first user VM is built, so
 * nothing a user VM sees can depend on it: the throwaway VM is a separate EmulatorVm (its own
 * arena, memory slots, clock in deterministic mode, SBI dispatcher) made through the same classes
 * a real VM uses (same hidden classes, the same arena and WebAssembly memory setup, the same
 * runSlice path), and it is closed before createVm goes on. Hooking the first vCPU run instead
 * would put the cost inside a run() a caller may be timing, and the scheduler path is async.
 *
 * It is an optimisation only: any error inside is swallowed (warmupStatus() says what happened),
 * it runs at most once per process (per worker thread: feedback is per isolate) and
 * KVM_RISCV_WARMUP=0 turns it off. It never waits on the host: wfi is served by skipping the
 * throwaway VM's deterministic clock, and it is bounded by MAX_SLICES slices.
 */
import type { VcpuExit } from '../types.js';
import { runSlice, type SliceResult } from './run-slice.js';
import { SOLO_QUANTUM } from './scheduler.js';
import { Hart } from './cpu/hart.js';
import { EmulatorVm } from './vm.js';
import { WARMUP_IMAGE_CHUNKS, WARMUP_IMAGE_SIZE } from './warmup-image.js';
import { monotonicMs } from '../../host/monotonic.js';

/** The SRST reason warmup.S shuts down with when every phase ran (its DONE_MASK: 17 phase bits). */
export const WARMUP_DONE_MASK = (1 << 17) - 1;
/** warmup.S's memory map: 4 MiB of RAM at the usual base, the image at the kernel load address. */
const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 4 << 20;
const ENTRY = 0x8020_0000n;
/** A bound on the run (the program needs well under a million instructions, ~10 slices with its
 * SBI calls shortening some): a broken image or emulator cannot keep createVm busy. */
const MAX_SLICES = 200;
/** Block entries before compiling, for the throwaway hart only: warmup.S's hot loops run
 * HOT_ITERS = 250 times a pass, so they are compiled in its first pass and every later pass calls
 * five WebAssembly functions from the block call site; the default threshold (cpu/hart.ts
 * WASM_JIT_THRESHOLD, 5000) would need ~2M instructions for that. */
const WARMUP_JIT_THRESHOLD = 100;
/** Decoded code pages the throwaway hart keeps: more than warmup.S's 13 code pages, fewer than
 * those plus the EVICT_PAGES its last phase adds, so fetch misses take the eviction path
 * (cpu/hart.ts evictCodePages) a Linux boot takes, but only once (evicting the hot loops'
 * pages every pass would double the warm-up's cost with their recompiles). */
const WARMUP_CODE_PAGES = 16;

export interface WarmupStatus {
  /** 'not-run' until the first createVm; 'off' with KVM_RISCV_WARMUP=0. */
  readonly state: 'not-run' | 'off' | 'done' | 'failed';
  /** Host milliseconds the warm-up took. */
  readonly ms: number;
  /** The guest's SRST reason (its phase mask), when it got that far. */
  readonly reason?: number;
  readonly error?: string;
}

let status: WarmupStatus = { state: 'not-run', ms: 0 };

/** What the process-wide warm-up did (tests, benchmarks). */
export function warmupStatus(): WarmupStatus {
  return status;
}

/** The guest image: WARMUP_IMAGE_SIZE bytes, zero outside the chunks. */
export function warmupImage(): Uint8Array {
  const image = new Uint8Array(WARMUP_IMAGE_SIZE);
  for (const [at, b64] of WARMUP_IMAGE_CHUNKS) {
    const text = atob(b64);
    for (let i = 0; i < text.length; i++) image[at + i] = text.charCodeAt(i);
  }
  return image;
}

/** Runs the warm-up once per process unless KVM_RISCV_WARMUP=0; never throws. */
export function warmUpOnce(): void {
  if (status.state !== 'not-run') return;
  if (typeof process !== 'undefined' && process.env.KVM_RISCV_WARMUP === '0') {
    status = { state: 'off', ms: 0 };
    return;
  }
  const t0 = monotonicMs();
  try {
    const reason = runWarmupGuest();
    status = reason === WARMUP_DONE_MASK
      ? { state: 'done', ms: monotonicMs() - t0, reason }
      : { state: 'failed', ms: monotonicMs() - t0, reason, error: `phase mask 0x${reason.toString(16)}` };
  } catch (e) {
    status = { state: 'failed', ms: monotonicMs() - t0, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Runs warmup.S on a throwaway VM to its SRST shutdown and returns the shutdown reason (the
 * guest's phase mask); throws if the guest ends any other way. The VM is closed in every case. */
export function runWarmupGuest(): number {
  const vm = new EmulatorVm({}, 'deterministic');
  try {
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE }).writeBytes(ENTRY, warmupImage());
    vm.createVcpu(0);
    const kernel = vm.kernelVcpus[0];
    // Set directly rather than through ONE_REG: setReg kicks the scheduler (a setImmediate).
    kernel.hart.pc = ENTRY;
    kernel.hart.flushCode();
    if (kernel.hart instanceof Hart) {
      kernel.hart.jitThreshold = WARMUP_JIT_THRESHOLD;
      kernel.hart.codePageLimit = WARMUP_CODE_PAGES;
    }
    for (let n = 0; n < MAX_SLICES; n++) {
      kernel.applyCompletion(); // what run() does first (vcpu.ts #enter)
      const r: SliceResult = runSlice(vm, kernel, SOLO_QUANTUM);
      if (r.kind === 'yield') continue;
      if (r.kind === 'blocked') {
        // wfi with the timer armed: as runSync does in deterministic time, jump to the deadline.
        const deadline = kernel.timer.deadline();
        if (deadline === null || kernel.mpState !== 'runnable') throw new Error('warm-up guest blocked with no timer armed');
        vm.clock.skipTo(deadline);
        continue;
      }
      if (r.kind === 'error') throw r.error;
      const exit: VcpuExit = r.exit;
      if (exit.reason === 'mmio') continue; // no device: loads read 0 (completion pre-filled)
      if (exit.reason === 'system_event' && exit.type === 'shutdown') return Number(exit.data[0]);
      throw new Error(`warm-up guest: unexpected exit ${exit.reason}`);
    }
    throw new Error(`warm-up guest: no shutdown after ${MAX_SLICES} slices`);
  } finally {
    vm.close();
  }
}
