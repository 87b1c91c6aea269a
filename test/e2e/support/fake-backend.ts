/**
 * A scripted stand-in for a backend, for unit tests of the VMM plumbing (run loop, bare-metal
 * runner) before or without a real CPU: each vCPU's run() returns the next exit a script produces,
 * and every completion the VMM hands back is recorded so tests can check it. Memory is real
 * (ArrayBufferGuestMemory), registers are a Map with the ids lib/abi/regs.ts defines.
 */
import type {
  GuestMemory, Hypervisor, MemoryRegionOptions, MpState, Vcpu, VcpuExit, VcpuState, Vm, VmCapabilities,
} from '../../../lib/backend/types.js';
import { ArrayBufferGuestMemory } from '../../../lib/backend/guest-memory.js';
import { kvmErrno } from '../../../lib/errors.js';
import { regId } from '../../../lib/abi/regs.js';

export type ExitScript = (vcpu: FakeVcpu, vm: FakeVm) => VcpuExit | Promise<VcpuExit>;

export type RecordedCompletion =
  | { kind: 'sbi'; error: bigint; value: bigint }
  | { kind: 'mmio'; value: bigint }
  | { kind: 'csr'; value: bigint };

/** Registers a Debian 6.12 host reports for a typical rv64gc hart. */
export function defaultRegisters(): Map<bigint, bigint> {
  const letters = 'imafdc';
  let isa = 0n;
  for (const c of letters) isa |= 1n << BigInt(c.charCodeAt(0) - 97);
  return new Map<bigint, bigint>([
    [regId('config.isa'), isa],
    [regId('config.satp_mode'), 9n],
    [regId('timer.frequency'), 10_000_000n],
    [regId('isa_ext.ZICSR'), 1n],
    [regId('isa_ext.ZIFENCEI'), 1n],
    [regId('isa_ext.ZBB'), 1n],
    [regId('isa_ext.SSTC'), 1n],
    [regId('isa_ext.ZBA'), 0n],
    [regId('sbi_ext.DBCN'), 0n],
    [regId('core.pc'), 0n],
    [regId('core.a0'), 0n],
    [regId('core.a1'), 0n],
    [regId('core.mode'), 1n],
  ]);
}

export class FakeVcpu implements Vcpu {
  readonly id: number;
  state: VcpuState = 'idle';
  readonly regs = defaultRegisters();
  readonly completions: RecordedCompletion[] = [];
  runs = 0;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  constructor(id: number, private readonly vm: FakeVm, private readonly script: ExitScript) {
    this.id = id;
  }

  getReg(id: bigint): bigint {
    const v = this.regs.get(id);
    if (v === undefined) throw kvmErrno(2, 'KVM_GET_ONE_REG');
    return v;
  }
  setReg(id: bigint, value: bigint): void {
    if (!this.regs.has(id)) throw kvmErrno(2, 'KVM_SET_ONE_REG');
    this.regs.set(id, value);
  }
  getRegList(): bigint[] { return [...this.regs.keys()]; }

  async run(): Promise<VcpuExit> {
    this.runs++;
    if (this.stopRequested) { this.stopRequested = false; return { reason: 'interrupted' }; }
    this.state = 'running';
    try {
      const exit = await this.script(this, this.vm);
      if (this.stopRequested) { this.stopRequested = false; return { reason: 'interrupted' }; }
      return exit;
    } finally {
      this.state = 'idle';
    }
  }
  runSync(): VcpuExit { throw new Error('not used'); }
  /** For scripts that model a vCPU blocked in the kernel (WFI, STOPPED): resolves on stop(). */
  blockUntilStopped(): Promise<VcpuExit> {
    return new Promise((resolve) => { this.wake = () => resolve({ reason: 'interrupted' }); });
  }
  stop(): void {
    this.stopRequested = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  setSbiReturn(error: number | bigint, value: number | bigint = 0): void {
    this.completions.push({ kind: 'sbi', error: BigInt.asUintN(64, BigInt(error)), value: BigInt.asUintN(64, BigInt(value)) });
  }
  setMmioLoad(value: number | bigint): void { this.completions.push({ kind: 'mmio', value: BigInt(value) }); }
  setCsrReturn(value: number | bigint): void { this.completions.push({ kind: 'csr', value: BigInt(value) }); }
  setExternalInterrupt(): void {}
  getMpState(): MpState { return 'runnable'; }
  setMpState(): void {}
  close(): void { this.state = 'closed'; }
}

export class FakeVm implements Vm {
  readonly backend = 'emulator' as const;
  readonly capabilities: VmCapabilities = { irqchip: false, readonlyMemory: true, maxVcpus: 8, maxMemorySlots: 32 };
  readonly regions: ArrayBufferGuestMemory[] = [];
  readonly vcpus: FakeVcpu[] = [];
  closed = false;
  constructor(private readonly script: ExitScript) {}
  checkExtension(): number { return 0; }
  setMemoryRegion(o: MemoryRegionOptions): GuestMemory {
    const m = new ArrayBufferGuestMemory(o.slot, BigInt(o.guestPhysAddr), o.size, !!o.readonly, new ArrayBuffer(o.size));
    this.regions.push(m);
    return m;
  }
  deleteMemoryRegion(slot: number): void {
    const i = this.regions.findIndex((r) => r.slot === slot);
    if (i >= 0) { this.regions[i]!.invalidate(); this.regions.splice(i, 1); }
  }
  memoryRegions(): GuestMemory[] { return [...this.regions]; }
  getDirtyLog(): Uint8Array { return new Uint8Array(0); }
  createVcpu(id: number): FakeVcpu {
    const v = new FakeVcpu(id, this, this.script);
    this.vcpus.push(v);
    return v;
  }
  irqLine(): void { throw kvmErrno(6, 'KVM_IRQ_LINE'); }
  close(): void {
    this.closed = true;
    for (const r of this.regions) r.invalidate();
    for (const v of this.vcpus) v.close();
  }
}

export class FakeHypervisor implements Hypervisor {
  readonly backend = 'emulator' as const;
  readonly vms: FakeVm[] = [];
  constructor(private readonly script: ExitScript) {}
  apiVersion(): number { return 12; }
  checkExtension(): number { return 0; }
  createVm(): FakeVm {
    const vm = new FakeVm(this.script);
    this.vms.push(vm);
    return vm;
  }
  close(): void {}
}

export const sbiExit = (extensionId: number, functionId: number | bigint, ...args: bigint[]): VcpuExit => ({
  reason: 'sbi', extensionId, functionId: BigInt(functionId), args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6), ret: [0xffff_ffff_ffff_fffen, 0n],
});

export const srstExit = (type: 'shutdown' | 'reset', reason: bigint): VcpuExit => ({
  reason: 'system_event', type, typeCode: type === 'shutdown' ? 1 : 2, data: [reason],
});
