/**
 * Loading guest programs (guest/src/*.S) into a VM and driving their exits.
 *
 * The machine is the conventional RISC-V layout (Linux Documentation/arch/riscv/boot.rst): RAM at
 * 0x80000000, the image at RAM + 2 MiB, vCPU 0 entered with pc = image, a0 = hartid, a1 = DT
 * address (0: these programs need none). Other vCPUs stay stopped until the guest starts them
 * with SBI HSM, as on KVM.
 *
 * Guests talk back through "reports": SBI calls to REPORT_EID (first experimental EID, always
 * forwarded) whose FID is a tag and a0..a5 the values (guest/include/common.S).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestMemory, Hypervisor, MmioExit, SbiExit, SystemEventExit, Vcpu, VcpuExit, Vm, VmOptions } from '../../lib/backend/types.js';
import { regId, REG_A0, REG_A1, REG_PC, REG_SBI_EXT_DBCN } from '../../lib/abi/regs.js';
import { readElfSymbols } from './elf.js';
import { guestArtifact, repoRoot } from './paths.js';

export const RAM_BASE = 0x80000000n;
export const RAM_SIZE = 64 * 1024 * 1024;
export const LOAD_ADDR = 0x80200000n;
/** The report channel's EID (guest/include/common.S REPORT_EID). */
export const REPORT_EID = 0x08000000;

let buildChecked = false;

/** Every file in guest/include: the shared macros every guest program may .include. */
export function guestIncludes(): string[] {
  const dir = join(repoRoot(), 'guest', 'include');
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
}

/** Builds the guest programs when guest/build is missing or older than a source. Skipped where the
 * sources are not present (the rig ships only guest/build). */
export function ensureGuestsBuilt(): void {
  if (buildChecked) return;
  buildChecked = true;
  const root = repoRoot();
  const script = join(root, 'guest', 'build.sh');
  const srcDir = join(root, 'guest', 'src');
  if (!existsSync(script) || !existsSync(srcDir)) return;
  const inputs = [script, join(root, 'guest', 'link.ld'), ...guestIncludes(),
    ...readdirSync(srcDir).filter((f) => f.endsWith('.S')).map((f) => join(srcDir, f))];
  const newestInput = Math.max(...inputs.filter(existsSync).map((f) => statSync(f).mtimeMs));
  const stale = readdirSync(srcDir).filter((f) => f.endsWith('.S')).some((f) => {
    const bin = guestArtifact(f.slice(0, -2), 'bin');
    return !existsSync(bin) || statSync(bin).mtimeMs < newestInput;
  });
  if (stale) execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}

export interface LoadOptions {
  /** Number of vCPUs to create (ids 0..n-1); default 1. */
  vcpus?: number;
  ramSize?: number;
  vmOptions?: VmOptions;
  /** Registers to set on vCPU 0 before the first run, by dotted name ("core.a2"). */
  regs?: Record<string, bigint>;
  /** ONE_REG sbi_ext.DBCN = 1 on every vCPU before the first run (kvm-riscv-abi.md §3.10). */
  enableDbcn?: boolean;
}

export interface LoadedProgram {
  readonly name: string;
  readonly vm: Vm;
  readonly ram: GuestMemory;
  readonly vcpus: readonly Vcpu[];
  /** vCPU 0. */
  readonly vcpu: Vcpu;
  /** The program's ELF symbols (label -> address). */
  readonly symbols: ReadonlyMap<string, bigint>;
  /** Address of a label; throws when the program has no such label. */
  symbol(name: string): bigint;
  close(): void;
}

export function readGuestImage(name: string): Uint8Array {
  ensureGuestsBuilt();
  const path = guestArtifact(name, 'bin');
  if (!existsSync(path)) throw new Error(`${path} missing: run \`npm run build:guest\``);
  return new Uint8Array(readFileSync(path));
}

/** Creates a VM with RAM at 0x80000000, copies guest/build/<name>.bin to 0x80200000 and creates
 * the vCPUs, vCPU 0 ready at the image with a0 = 0, a1 = 0. */
export function loadProgram(hv: Hypervisor, name: string, opts: LoadOptions = {}): LoadedProgram {
  const image = readGuestImage(name);
  const elf = guestArtifact(name, 'elf');
  const symbols = existsSync(elf) ? readElfSymbols(elf) : new Map<string, bigint>();
  const vm = hv.createVm(opts.vmOptions);
  try {
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: opts.ramSize ?? RAM_SIZE });
    ram.writeBytes(LOAD_ADDR, image);
    const vcpus: Vcpu[] = [];
    for (let id = 0; id < (opts.vcpus ?? 1); id++) {
      const vcpu = vm.createVcpu(id);
      if (opts.enableDbcn) vcpu.setReg(REG_SBI_EXT_DBCN, 1n);
      vcpus.push(vcpu);
    }
    const boot = vcpus[0]!;
    boot.setReg(REG_PC, LOAD_ADDR);
    boot.setReg(REG_A0, 0n);
    boot.setReg(REG_A1, 0n);
    for (const [reg, value] of Object.entries(opts.regs ?? {})) boot.setReg(regId(reg), value);
    return {
      name, vm, ram, vcpus, vcpu: boot, symbols,
      symbol(label: string): bigint {
        const at = symbols.get(label);
        if (at === undefined) throw new Error(`guest program ${name} has no symbol '${label}'`);
        return at;
      },
      close: () => vm.close(),
    };
  } catch (e) {
    vm.close();
    throw e;
  }
}

/** A report from the guest: the tag (FID) and a0..a5. */
export interface Report {
  tag: number;
  args: readonly bigint[];
}

export type Verdict = 'stop' | 'continue' | void;

export interface ExitHandlers {
  /** A report; default: answer (0, 0) and continue. */
  report?(report: Report, exit: SbiExit, vcpu: Vcpu): Verdict;
  /** Any other forwarded SBI call; default: continue with KVM's pre-filled (-2, 0). */
  sbi?(exit: SbiExit, vcpu: Vcpu): Verdict;
  /** MMIO; default: loads read 0, continue. */
  mmio?(exit: MmioExit, vcpu: Vcpu): Verdict;
  /** SRST; default: stop. */
  systemEvent?(exit: SystemEventExit, vcpu: Vcpu): Verdict;
  /** Any other exit (interrupted, csr, internal_error, ...); default: stop. */
  other?(exit: VcpuExit, vcpu: Vcpu): Verdict;
}

export interface RunOptions {
  /** Give up (throw) after this many exits; default 200. */
  maxExits?: number;
  /** A single run() that takes longer is stopped and the run fails; default 20 s. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Every exit, copied when it was delivered. */
  exits: VcpuExit[];
  /** One line per exit (exitSummary), for failure messages. */
  log: string[];
  reports: Report[];
  last: VcpuExit;
}

/** A deep copy of an exit, detached from backend buffers that the next run() may reuse. */
export function copyExit(exit: VcpuExit): VcpuExit {
  switch (exit.reason) {
    case 'sbi': return { ...exit, args: [...exit.args], ret: [exit.ret[0], exit.ret[1]] };
    case 'mmio': return { ...exit, data: new Uint8Array(exit.data) };
    case 'system_event': return { ...exit, data: [...exit.data] };
    case 'internal_error': return { ...exit, data: [...exit.data] };
    default: return { ...exit };
  }
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** One line describing an exit, e.g. "sbi eid=0x8000000 fid=0x1 args=[0x0,...]". */
export function exitSummary(exit: VcpuExit): string {
  switch (exit.reason) {
    case 'sbi': return `sbi eid=${hex(exit.extensionId)} fid=${hex(exit.functionId)} args=[${exit.args.map(hex).join(',')}]`;
    case 'mmio': return `mmio ${exit.isWrite ? 'write' : 'read'} ${hex(exit.address)} len=${exit.length}` +
      (exit.isWrite ? ` data=[${[...exit.data].map((b) => hex(b)).join(',')}]` : '');
    case 'system_event': return `system_event ${exit.type} (${exit.typeCode}) data=[${exit.data.map(hex).join(',')}]`;
    case 'csr': return `csr ${hex(exit.csrNum)} new=${hex(exit.newValue)} mask=${hex(exit.writeMask)}`;
    case 'internal_error': return `internal_error suberror=${exit.suberror} data=[${exit.data.map(hex).join(',')}]`;
    case 'fail_entry': return `fail_entry reason=${hex(exit.hardwareEntryFailureReason)} cpu=${exit.cpu}`;
    case 'unsupported': return `unsupported exit_reason=${exit.exitReason}`;
    default: return exit.reason;
  }
}

/** Little-endian value of an MMIO store's data. */
export function mmioValue(exit: MmioExit): bigint {
  let v = 0n;
  for (let i = exit.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(exit.data[i] ?? 0);
  return v;
}

/** Signed view of a u64 register/SBI value. */
export function signed(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** run() with a watchdog: if the guest does not exit in time, stop() it and fail with the log. */
export async function runWithTimeout(vcpu: Vcpu, timeoutMs: number, log: readonly string[] = []): Promise<VcpuExit> {
  let fired = false;
  const timer = setTimeout(() => { fired = true; vcpu.stop(); }, timeoutMs);
  try {
    const exit = await vcpu.run();
    if (fired && exit.reason === 'interrupted') {
      throw new Error(`vCPU ${vcpu.id}: no exit within ${timeoutMs} ms; exits so far:\n  ${log.join('\n  ')}`);
    }
    return exit;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a vCPU, handing each exit to `handlers`, until a handler says 'stop' (by default: a system
 * event or an unexpected exit). Throws on a hang or when maxExits is reached. */
export async function runUntil(vcpu: Vcpu, handlers: ExitHandlers = {}, opts: RunOptions = {}): Promise<RunResult> {
  const maxExits = opts.maxExits ?? 200;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const exits: VcpuExit[] = [];
  const log: string[] = [];
  const reports: Report[] = [];
  for (;;) {
    if (exits.length >= maxExits) throw new Error(`vCPU ${vcpu.id}: more than ${maxExits} exits:\n  ${log.slice(-20).join('\n  ')}`);
    const exit = copyExit(await runWithTimeout(vcpu, timeoutMs, log));
    exits.push(exit);
    log.push(exitSummary(exit));
    let verdict: Verdict = undefined;
    switch (exit.reason) {
      case 'sbi':
        if (exit.extensionId === REPORT_EID) {
          const report: Report = { tag: Number(exit.functionId), args: exit.args };
          reports.push(report);
          if (handlers.report) verdict = handlers.report(report, exit, vcpu);
          else vcpu.setSbiReturn(0, 0);
        } else if (handlers.sbi) {
          verdict = handlers.sbi(exit, vcpu);
        }
        break;
      case 'mmio':
        if (handlers.mmio) verdict = handlers.mmio(exit, vcpu);
        else if (!exit.isWrite) vcpu.setMmioLoad(0);
        break;
      case 'system_event':
        verdict = handlers.systemEvent ? handlers.systemEvent(exit, vcpu) : 'stop';
        break;
      default:
        verdict = handlers.other ? handlers.other(exit, vcpu) : 'stop';
    }
    if (verdict === 'stop') return { exits, log, reports, last: exit };
  }
}

/** Runs until the next report and returns it (other exits go to `handlers`, defaults as runUntil). */
export async function runToReport(vcpu: Vcpu, handlers: Omit<ExitHandlers, 'report'> = {}, opts: RunOptions = {}): Promise<{ report: Report; result: RunResult }> {
  let got: Report | undefined;
  const result = await runUntil(vcpu, {
    ...handlers,
    report: (r) => { got = r; return 'stop'; },
  }, opts);
  if (!got) throw new Error(`vCPU ${vcpu.id}: ended without a report; exits:\n  ${result.log.join('\n  ')}`);
  return { report: got, result };
}

/** The reports as [tag, a0, a1] triples — the common shape assertions compare. */
export function reportPairs(reports: readonly Report[]): Array<[number, bigint, bigint]> {
  return reports.map((r) => [r.tag, r.args[0] ?? 0n, r.args[1] ?? 0n]);
}

/** loadProgram, run `body`, and close the VM whatever happens. */
export async function withProgram<T>(hv: Hypervisor, name: string, opts: LoadOptions, body: (p: LoadedProgram) => Promise<T> | T): Promise<T> {
  const p = loadProgram(hv, name, opts);
  try {
    return await body(p);
  } finally {
    p.close();
  }
}
