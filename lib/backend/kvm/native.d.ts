/**
 * The typed surface of the kvm_riscv addon (native/*.cc), in one place. Mechanism only: every
 * method maps to one syscall or ioctl; validation with good messages, defaults and the state
 * machine live in the TypeScript classes next to this file.
 *
 * Errors thrown by the addon:
 *   - NativeErrnoError for a failed syscall (converted to KvmError by ./native-errors.ts);
 *   - Error with code 'ERR_KVM_CLOSED' / 'ERR_KVM_BUSY' for a closed or running handle;
 *   - TypeError / RangeError for arguments of the wrong type or out of range.
 */

export interface NativeErrnoError extends Error {
  /** errno name, e.g. "EBUSY" */
  code: string;
  errno: number;
  /** "ioctl", "open" or "mmap" */
  syscall: string;
  /** The ioctl or call that failed, e.g. "KVM_SET_ONE_REG". */
  request: string;
}

export interface NativeSystem {
  apiVersion(): number;
  checkExtension(cap: number): number;
  vcpuMmapSize(): number;
  /** KVM_CREATE_VM with the given machine type (0 on riscv). */
  createVm(type?: number): NativeVm;
  close(): void;
  readonly closed: boolean;
}

/** deviceAttr() operations: 0 KVM_HAS_DEVICE_ATTR, 1 KVM_GET_DEVICE_ATTR, 2 KVM_SET_DEVICE_ATTR. */
export type NativeDeviceAttrOp = 0 | 1 | 2;

export interface NativeVm {
  checkExtension(cap: number): number;
  /** mmap + KVM_SET_USER_MEMORY_REGION; the buffer's finalizer unmaps the memory. */
  setMemoryRegion(slot: number, flags: number, guestPhysAddr: bigint, size: number): ArrayBuffer;
  /** KVM_SET_USER_MEMORY_REGION with size 0, then drops the native reference. false: no such slot. */
  deleteMemoryRegion(slot: number): boolean;
  /** KVM_GET_DIRTY_LOG into bitmap (at least ceil(pages / 64) * 8 bytes). */
  getDirtyLog(slot: number, bitmap: Uint8Array): void;
  createVcpu(id: number): NativeVcpu;
  irqLine(irq: number, level: boolean): void;
  /** KVM_CREATE_DEVICE: the device fd (0 for a successful testOnly probe). */
  createDevice(type: number, testOnly: boolean): number;
  /** KVM_{HAS,GET,SET}_DEVICE_ATTR on a device of this VM; data is 8 bytes (u32/u64 LE). */
  deviceAttr(op: NativeDeviceAttrOp, deviceFd: number, group: number, attr: bigint, data?: Uint8Array): boolean | undefined;
  close(): void;
  readonly closed: boolean;
}

export interface NativeVcpu {
  readonly id: number;
  /** Process-wide id for NativeAddon.stopVcpu(), usable from any thread. */
  readonly stopToken: number;
  /** The vCPU's mmapped kvm_run area (KVM_GET_VCPU_MMAP_SIZE bytes); valid as long as referenced. */
  runBuffer(): ArrayBuffer;
  /** out must be exactly KVM_REG_SIZE(id) bytes. */
  getOneReg(id: bigint, out: Uint8Array): void;
  setOneReg(id: bigint, value: Uint8Array): void;
  getRegList(): bigint[];
  /** KVM_RUN on the vCPU's thread: resolves with 0 or the errno. */
  run(): Promise<number>;
  /** KVM_RUN on the calling thread: 0 or the errno. */
  runSync(): number;
  /** How long run() polls on the calling thread for a quick exit before leaving the result to the
   * event loop, in µs (0..1e6). */
  setRunPoll(micros: number): void;
  /** bench/p1's measuring stick: KVM_RUN in a C loop answering experimental SBI calls of `eid`
   * with {0, args[0] + 1} until another exit; the number answered, or -errno. */
  benchSbiLoop(eid: number): number;
  /** immediate_exit = 1 and a signal to the thread in KVM_RUN. */
  stop(): void;
  /** KVM_INTERRUPT with the raw riscv argument. */
  interrupt(irq: number): void;
  getMpState(): number;
  setMpState(state: number): void;
  close(): void;
  readonly closed: boolean;
}

export interface NativeAddon {
  openSystem(path: string): NativeSystem;
  /** Values compiled into the addon, checked against lib/abi/kvm.ts at load. */
  readonly abi: {
    readonly KVM_API_VERSION: number;
    readonly KVM_RUN: number;
    readonly KVM_SET_ONE_REG: number;
    readonly KVM_GET_REG_LIST: number;
    readonly sizeofKvmRun: number;
    readonly exitUnionOffset: number;
    readonly sbiRetOffset: number;
    readonly csrRetOffset: number;
  };
  readonly pageSize: number;
  /** stop() of the vCPU with this token, from any thread (e.g. the main thread stopping a worker's
   * runSync()). false when no such vCPU is alive. */
  stopVcpu(token: number): boolean;
  /** 'riscv64' for the real build, 'other' for a smoke-test build on another architecture. */
  readonly arch: string;
  kickSignal(): number;
}
