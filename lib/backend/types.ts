/**
 * The backend-neutral API: what a VMM written in TypeScript sees of a hypervisor.
 *
 * It mirrors KVM's own object model (Documentation/virt/kvm/api.rst): a Hypervisor (/dev/kvm) makes
 * Vms; a Vm owns memory regions (slots) and vCPUs; a vCPU's run() returns one exit, decoded once at
 * the boundary into the `VcpuExit` union. Two backends implement it:
 *   - lib/backend/kvm: the native addon driving real KVM on riscv64 Linux hosts;
 *   - lib/backend/emulator: a RISC-V emulator in TypeScript that does in software what KVM does in
 *     the kernel (TIME, IPI, RFENCE, HSM, SRST, BASE) and forwards what KVM forwards.
 * A script written against this file cannot tell which backend it drives.
 *
 * Conventions: register ids and register values are BigInt (u64); guest physical addresses are
 * accepted as number | bigint and reported as bigint; sizes and offsets are numbers.
 */

export type BackendKind = 'kvm' | 'emulator';

export interface Hypervisor {
  readonly backend: BackendKind;
  /** KVM_GET_API_VERSION (12). */
  apiVersion(): number;
  /** KVM_CHECK_EXTENSION on the system fd (lib/abi/kvm.ts KVM_CAP_*); 0 = absent. */
  checkExtension(cap: number): number;
  createVm(options?: VmOptions): Vm;
  /** Closes the hypervisor handle; VMs already created stay usable until they are closed. */
  close(): void;
}

export interface VmOptions {
  /** Emulator only: behave like a host kernel built with CONFIG_RISCV_SBI_V01 (legacy console and
   * shutdown forwarded). KVM ignores it: the host kernel decides. */
  sbiV01?: boolean;
}

export interface MemoryRegionOptions {
  /** Slot number (0 .. KVM_CAP_NR_MEMSLOTS-1). */
  slot: number;
  /** Guest physical address, 4 KiB aligned. */
  guestPhysAddr: number | bigint;
  /** Size in bytes, a non-zero multiple of 4 KiB. */
  size: number;
  /** KVM_MEM_READONLY: guest stores become MMIO exits. */
  readonly?: boolean;
  /** KVM_MEM_LOG_DIRTY_PAGES: track guest writes for getDirtyLog(). */
  logDirty?: boolean;
}

/**
 * Guest RAM of one slot, as user space sees it. Every access is range-checked (RangeError naming the
 * address) and fails with KvmStateError after the region is deleted or the VM closed. Addresses are
 * guest physical addresses inside [guestPhysAddr, guestPhysAddr + size).
 */
export interface GuestMemory {
  readonly slot: number;
  readonly guestPhysAddr: bigint;
  readonly size: number;
  readonly readonly: boolean;
  /** True once the region was deleted or its VM closed. */
  readonly closed: boolean;
  contains(gpa: number | bigint, length?: number): boolean;
  read8(gpa: number | bigint): number;
  read16(gpa: number | bigint): number;
  read32(gpa: number | bigint): number;
  read64(gpa: number | bigint): bigint;
  write8(gpa: number | bigint, value: number): void;
  write16(gpa: number | bigint, value: number): void;
  write32(gpa: number | bigint, value: number): void;
  write64(gpa: number | bigint, value: bigint): void;
  /** A copy of guest bytes. */
  readBytes(gpa: number | bigint, length: number): Uint8Array;
  writeBytes(gpa: number | bigint, data: Uint8Array): void;
  fill(gpa: number | bigint, length: number, value: number): void;
}

export interface VmCapabilities {
  /** An in-kernel interrupt controller (AIA) can be created. */
  irqchip: boolean;
  readonlyMemory: boolean;
  maxVcpus: number;
  maxMemorySlots: number;
}

export interface Vm {
  readonly backend: BackendKind;
  readonly capabilities: VmCapabilities;
  /** KVM_CHECK_EXTENSION on the VM fd. */
  checkExtension(cap: number): number;
  /** KVM_SET_USER_MEMORY_REGION with freshly mapped, zeroed memory. Overlaps, reused slots and
   * misaligned ranges are rejected with RangeError before reaching the kernel. */
  setMemoryRegion(options: MemoryRegionOptions): GuestMemory;
  /** Removes the slot (size 0 to KVM), then unmaps its memory. */
  deleteMemoryRegion(slot: number): void;
  /** The regions currently installed. */
  memoryRegions(): GuestMemory[];
  /** KVM_GET_DIRTY_LOG: one bit per 4 KiB page of the slot (bit i of byte i>>3 = page i), pages
   * written since the last call. Fails for slots created without logDirty. */
  getDirtyLog(slot: number): Uint8Array;
  /** KVM_CREATE_VCPU. id 0 starts runnable, the others stopped (the guest starts them with HSM). */
  createVcpu(id: number): Vcpu;
  readonly vcpus: readonly Vcpu[];
  /** KVM_IRQ_LINE on the in-kernel AIA; throws KvmError ENXIO where there is none. */
  irqLine(irq: number, level: boolean): void;
  /** Stops every vCPU, joins their threads, deletes every slot, then unmaps memory. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/** KVM_GET_MP_STATE values on riscv. */
export type MpState = 'runnable' | 'stopped';

export type SystemEventType = 'shutdown' | 'reset' | 'crash' | 'wakeup' | 'suspend' | 'unknown';

/** KVM_EXIT_RISCV_SBI: an SBI call KVM forwards (legacy console, DBCN, experimental, vendor). */
export interface SbiExit {
  reason: 'sbi';
  /** a7 */
  extensionId: number;
  /** a6 (full u64) */
  functionId: bigint;
  /** a0..a5 */
  args: readonly bigint[];
  /** Pre-filled as KVM does: [SBI_ERR_NOT_SUPPORTED, 0] as u64; set with vcpu.setSbiReturn(). */
  ret: readonly [bigint, bigint];
}

/** KVM_EXIT_SYSTEM_EVENT (SRST): every vCPU is stopped. */
export interface SystemEventExit {
  reason: 'system_event';
  type: SystemEventType;
  /** Raw KVM_SYSTEM_EVENT_* number. */
  typeCode: number;
  /** data[0..ndata): on riscv data[0] is the SRST reason. */
  data: readonly bigint[];
}

/** KVM_EXIT_MMIO: a load or store outside every slot (or a store to a read-only slot). */
export interface MmioExit {
  reason: 'mmio';
  address: bigint;
  length: 1 | 2 | 4 | 8;
  isWrite: boolean;
  /** Store data, little-endian, `length` bytes (zeros for a load). */
  data: Uint8Array;
}

/** KVM_EXIT_RISCV_CSR: a CSR KVM routes to user space (seed, sireg/stopei without AIA). */
export interface CsrExit {
  reason: 'csr';
  csrNum: number;
  newValue: bigint;
  writeMask: bigint;
}

export interface InterruptedExit { reason: 'interrupted' }
export interface InternalErrorExit { reason: 'internal_error'; suberror: number; data: readonly bigint[] }
export interface FailEntryExit { reason: 'fail_entry'; hardwareEntryFailureReason: bigint; cpu: number }
export interface DebugExit { reason: 'debug' }
export interface UnsupportedExit { reason: 'unsupported'; exitReason: number }

/** One exit of KVM_RUN, decoded once at the boundary. */
export type VcpuExit =
  | SbiExit
  | SystemEventExit
  | MmioExit
  | CsrExit
  | InterruptedExit
  | InternalErrorExit
  | FailEntryExit
  | DebugExit
  | UnsupportedExit;

export type VcpuState = 'idle' | 'running' | 'closed';

export interface Vcpu {
  readonly id: number;
  readonly state: VcpuState;
  /** KVM_GET_ONE_REG. Unknown id → KvmError ENOENT, as on KVM. */
  getReg(id: bigint): bigint;
  /** KVM_SET_ONE_REG. value must fit the register size (RangeError otherwise). */
  setReg(id: bigint, value: bigint): void;
  /** KVM_GET_REG_LIST. */
  getRegList(): bigint[];
  /**
   * KVM_RUN on a thread of its own: resolves with the next exit. The previous exit's completion
   * (SBI return, MMIO load value, CSR value) is applied first, as KVM does. A second run() while one
   * is pending rejects with KvmStateError ERR_KVM_BUSY. stop() makes a pending run resolve with
   * { reason: 'interrupted' }.
   */
  run(): Promise<VcpuExit>;
  /** The same, blocking the calling thread (meant for worker threads). */
  runSync(): VcpuExit;
  /** Makes a pending or the next run() return promptly with 'interrupted' (immediate_exit + signal). */
  stop(): void;
  /** Sets the [error, value] the guest receives for the last SBI exit (a0, a1). */
  setSbiReturn(error: number | bigint, value?: number | bigint): void;
  /** Supplies the value a pending MMIO load returns (truncated to its length, then extended as the
   * load instruction says). */
  setMmioLoad(value: number | bigint): void;
  /** Supplies the old CSR value for the last CSR exit. */
  setCsrReturn(value: number | bigint): void;
  /** KVM_INTERRUPT: raise (true) or lower (false) the supervisor external interrupt line. */
  setExternalInterrupt(level: boolean): void;
  getMpState(): MpState;
  setMpState(state: MpState): void;
  /** Stops the vCPU (waiting for a pending run to return) and releases it. Idempotent. */
  close(): void;
}
