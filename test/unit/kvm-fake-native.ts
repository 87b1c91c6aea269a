/**
 * A fake kvm_riscv addon for unit tests of lib/backend/kvm on hosts without riscv KVM. It keeps
 * the native contract (native.d.ts): errno errors shaped like the addon's, a kvm_run buffer the
 * test scripts exits into, run() promises that resolve with an errno, stop() → EINTR.
 */
import { KVM_CAP_IRQCHIP, KVM_CAP_MAX_VCPUS, KVM_CAP_NR_MEMSLOTS, KVM_CAP_READONLY_MEM } from '../../lib/abi/kvm.js';
import type { NativeSystem, NativeVcpu, NativeVm } from '../../lib/backend/kvm/native.js';

const ERRNO_NAMES: Record<number, string> = { 2: 'ENOENT', 4: 'EINTR', 6: 'ENXIO', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL' };

export function errnoError(errno: number, request: string, syscall = 'ioctl'): Error {
  const e = new Error(`${request}: errno ${errno}`) as Error & Record<string, unknown>;
  e.code = ERRNO_NAMES[errno] ?? `E${errno}`;
  e.errno = errno;
  e.syscall = syscall;
  e.request = request;
  return e;
}

let nextToken = 1;

export class FakeVcpu implements NativeVcpu {
  readonly id: number;
  readonly stopToken = nextToken++;
  readonly buffer = new ArrayBuffer(8192);
  readonly view = new DataView(this.buffer);
  readonly regs = new Map<bigint, Uint8Array>();
  closed = false;
  mpState = 0;
  interrupts: number[] = [];
  /** What the next KVM_RUN does: write kvm_run and return an errno. Default: block until stop(). */
  script: Array<(view: DataView) => number> = [];
  #pending: ((errno: number) => void) | null = null;
  immediateExit = false;
  runs = 0;

  constructor(id: number) {
    this.id = id;
  }

  runBuffer(): ArrayBuffer {
    return this.buffer;
  }
  #checkOpen(request: string) {
    if (this.closed) throw Object.assign(new Error(`${request}: closed`), { code: 'ERR_KVM_CLOSED' });
  }
  getOneReg(id: bigint, out: Uint8Array): void {
    this.#checkOpen('KVM_GET_ONE_REG');
    const v = this.regs.get(id);
    if (!v) throw errnoError(2, 'KVM_GET_ONE_REG');
    if (out.length !== v.length) throw new RangeError('size');
    out.set(v);
  }
  setOneReg(id: bigint, value: Uint8Array): void {
    this.#checkOpen('KVM_SET_ONE_REG');
    if (!this.regs.has(id)) throw errnoError(2, 'KVM_SET_ONE_REG');
    this.regs.set(id, value.slice());
  }
  getRegList(): bigint[] {
    return [...this.regs.keys()];
  }
  #step(): number {
    this.runs++;
    if (this.immediateExit) {
      this.immediateExit = false;
      return 4;
    }
    const s = this.script.shift();
    return s ? s(this.view) : -1;
  }
  run(): Promise<number> {
    this.#checkOpen('KVM_RUN');
    if (this.#pending) throw Object.assign(new Error('busy'), { code: 'ERR_KVM_BUSY' });
    const r = this.#step();
    if (r >= 0) return Promise.resolve(r);
    return new Promise((resolve) => {
      this.#pending = (errno) => {
        this.#pending = null;
        resolve(errno);
      };
    });
  }
  runSync(): number {
    const r = this.#step();
    return r >= 0 ? r : 4;
  }
  runPoll = 0;
  setRunPoll(micros: number): void {
    this.#checkOpen('setRunPoll');
    this.runPoll = micros;
  }
  benchSbiLoop(): number {
    return -95; // EOPNOTSUPP: the fake has no guest to loop over
  }
  stop(): void {
    if (this.#pending) this.#pending(4);
    else this.immediateExit = true;
  }
  interrupt(irq: number): void {
    this.interrupts.push(irq);
  }
  getMpState(): number {
    return this.mpState;
  }
  setMpState(state: number): void {
    if (state !== 0 && state !== 5) throw errnoError(22, 'KVM_SET_MP_STATE');
    this.mpState = state;
  }
  close(): void {
    this.closed = true;
    if (this.#pending) this.#pending(4);
  }
}

export class FakeVm implements NativeVm {
  caps = new Map<number, number>([
    [KVM_CAP_NR_MEMSLOTS, 32],
    [KVM_CAP_MAX_VCPUS, 4],
    [KVM_CAP_READONLY_MEM, 1],
    [KVM_CAP_IRQCHIP, 0],
  ]);
  slots = new Map<number, { flags: number; gpa: bigint; size: number }>();
  vcpus: FakeVcpu[] = [];
  calls: string[] = [];
  closed = false;
  dirtyPattern = 0;

  checkExtension(cap: number): number {
    return this.caps.get(cap) ?? 0;
  }
  setMemoryRegion(slot: number, flags: number, gpa: bigint, size: number): ArrayBuffer {
    this.calls.push(`set ${slot} ${flags} ${gpa} ${size}`);
    this.slots.set(slot, { flags, gpa, size });
    return new ArrayBuffer(size);
  }
  deleteMemoryRegion(slot: number): boolean {
    this.calls.push(`delete ${slot}`);
    return this.slots.delete(slot);
  }
  getDirtyLog(slot: number, bitmap: Uint8Array): void {
    const s = this.slots.get(slot);
    if (!s) throw errnoError(2, 'KVM_GET_DIRTY_LOG');
    if (bitmap.length < Math.ceil(s.size / 4096 / 64) * 8) throw new RangeError('bitmap too small');
    bitmap.fill(this.dirtyPattern);
  }
  createVcpu(id: number): FakeVcpu {
    const v = new FakeVcpu(id);
    this.vcpus.push(v);
    return v;
  }
  irqLine(irq: number, level: boolean): void {
    if (!this.caps.get(KVM_CAP_IRQCHIP)) throw errnoError(6, 'KVM_IRQ_LINE');
    this.calls.push(`irq ${irq} ${level}`);
  }
  createDevice(type: number, testOnly: boolean): number {
    throw errnoError(19, 'KVM_CREATE_DEVICE');
  }
  deviceAttr(): boolean | undefined {
    throw errnoError(6, 'KVM_GET_DEVICE_ATTR');
  }
  close(): void {
    this.calls.push('close');
    this.closed = true;
    for (const v of this.vcpus) v.close();
  }
}

export class FakeSystem implements NativeSystem {
  closed = false;
  vms: FakeVm[] = [];
  apiVersion(): number {
    return 12;
  }
  checkExtension(cap: number): number {
    return cap === KVM_CAP_READONLY_MEM ? 1 : 0;
  }
  vcpuMmapSize(): number {
    return 8192;
  }
  createVm(): FakeVm {
    const vm = new FakeVm();
    this.vms.push(vm);
    return vm;
  }
  close(): void {
    this.closed = true;
  }
}
