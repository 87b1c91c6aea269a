/**
 * A Machine: the high-level VMM object a user scripts. It owns a hypervisor (real KVM when the addon
 * loads and /dev/kvm works on riscv64, else the emulator; lib/vmm/select-backend.ts), and for each
 * boot one VM with RAM, one vCPU per hart, a board of devices (board.ts) and a device tree.
 *
 * The life of one machine:
 *   new Machine(config)   validates the configuration (sizes, counts, policies) synchronously;
 *   start()               opens the backend, checks that the kernel, initrd and disks fit and can be
 *                         read (nothing is written to a disk before this succeeds), boots, and
 *                         resolves once the vCPUs run; it rejects for bad input;
 *   events                'console' (guest console bytes), 'exit' (every exit, for --trace; costs
 *                         nothing without a listener), 'system' (SRST events), 'restart',
 *                         'boot' (each boot's VM, load addresses and FDT, before it runs);
 *   stop()                kicks every vCPU out; `done` then settles;
 *   done                  a promise that always resolves, with how the guest ended (MachineEnd).
 *
 * Boot protocol (Documentation/arch/riscv/boot.rst): hart 0 enters the kernel in S-mode with
 * a0 = hart id, a1 = the FDT's physical address, satp = 0; every other hart is created stopped and
 * started by the guest through SBI HSM hart_start (KVM answers HSM in the kernel, as does the
 * emulator). The vCPUs run concurrently, one async run loop each (run-loop.ts), exits go through
 * the pure dispatcher (dispatch.ts): SBI calls KVM forwards to the SBI registry, MMIO to the board's
 * bus.
 *
 * System events (SBI v2.0 ch. 10 SRST, KVM_SYSTEM_EVENT_*): shutdown ends the machine; a cold or
 * warm reboot follows `reboot.policy`: 'restart' (default) closes the VM and boots a fresh one from
 * the same images, up to `reboot.maxReboots` times; 'exit' ends the machine with kind 'reboot'. The
 * SRST reason (0 none, 1 system failure, vendor ranges) is surfaced in MachineEnd.srstReason.
 * System suspend (SBI SUSP, KVM_SYSTEM_EVENT_SUSPEND) comes from neither backend in scope (Linux
 * 6.12's KVM has no SUSP extension, nor does the emulator); if one appears, the dispatcher ends the
 * machine with kind 'error' naming it.
 *
 * In-kernel SBI extensions (KVM_REG_RISCV_SBI_EXT, kvm-riscv-abi.md §3.10) are set on every vCPU
 * before its first run from `inKernelSbi`; DBCN is enabled by default so the user-space SBI console
 * works (KVM leaves it disabled), with a warning only when the host lacks the register.
 */
import { describeValue, isObject } from '../option-checks.js';
import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, fstatSync, openSync } from 'node:fs';
import { hostRandomFill } from '../host/entropy.js';
import type { GuestMemory, Hypervisor, Vcpu, VcpuExit, Vm, VmOptions } from '../backend/types.js';
import { REG_A0, REG_A1, REG_MODE, REG_PC, regId, SBI_EXTS, type SbiExtName } from '../abi/regs.js';
import { loadKernelImage, type LoadedImage } from '../boot/elf.js';
import { ImageFile, VALIDATE_ONLY, copyImage, readImage } from '../boot/image-file.js';
import { describeHart, readTimebaseFrequency } from '../boot/hart-description.js';
import { FDT_MAX_SIZE, MAX_RAM_SIZE, MIN_RAM_SIZE, PAGE_SIZE, RAM_BASE, DEFAULT_RAM_SIZE, VIRTIO_MMIO_COUNT, fdtAddress } from '../boot/layout.js';
import { placeInitrd, type InitrdPlacement } from '../boot/initrd.js';
import { buildMachineFdt } from '../boot/machine-fdt.js';
import { SbiRegistry, type SbiExtension } from '../sbi/registry.js';
import { createDbcnExtension, type ConsoleInput, type ConsoleOutput } from '../sbi/dbcn.js';
import { createLegacyConsoleExtensions } from '../sbi/legacy-console.js';
import { buildBoard, type Board } from './board.js';
import type { ExitOutcome } from './dispatch.js';
import { ExitStatistics, traceRecord, type ExitTraceRecord } from './exit-trace.js';
import { runVm, type RunResult } from './run-loop.js';
import { BACKEND_CHOICES, openHypervisor, type BackendChoice } from './select-backend.js';
import { KvmError, KvmStateError } from '../errors.js';
import { monotonicMs } from '../host/monotonic.js';

/** How the guest ended. */
export interface MachineEnd {
  kind: 'shutdown' | 'reboot' | 'crash' | 'error' | 'timeout';
  /** A sentence for people: what happened. */
  reason?: string;
  /** The SRST reset_reason of a shutdown / reboot (SBI v2.0 §10.1 Table 50). */
  srstReason?: bigint;
  /** True when the host ended the run (stop()), not the guest. */
  stoppedByHost?: boolean;
  error?: Error;
  /** Reboots performed under the 'restart' policy before the end. */
  reboots: number;
}

export interface DiskConfig {
  /** A raw image file. */
  path: string;
  readonly?: boolean;
}

export interface RebootPolicy {
  /** 'restart' (default): boot again from the same images; 'exit': end with kind 'reboot'. */
  policy?: 'restart' | 'exit';
  /** Restarts allowed before the machine ends with kind 'reboot' anyway (default 8). */
  maxReboots?: number;
}

export interface MachineConfig {
  /** 'auto' (default), 'kvm', 'emulator', or a Hypervisor the caller owns (not closed by the machine). */
  backend?: BackendChoice | Hypervisor;
  vmOptions?: VmOptions;
  /** RAM in bytes (default 128 MiB): a multiple of 4 KiB, MIN_RAM_SIZE .. MAX_RAM_SIZE. */
  memorySize?: number;
  /** Harts (default 1). */
  vcpus?: number;
  /** A Linux RISC-V Image, an ELF64 or a flat binary (lib/boot/elf.ts loadKernelImage): its bytes,
   * kept for reboots, or an ImageFile (lib/boot/image-file.ts), read again at every boot instead. */
  kernel: Uint8Array | ImageFile;
  /** The initial ramdisk: bytes, or an ImageFile read at every boot. */
  initrd?: Uint8Array | ImageFile;
  /** The kernel command line (/chosen/bootargs). */
  cmdline?: string;
  /** Raw images as virtio-blk devices, /dev/vda first. Opened (and checked) by start(). */
  disks?: readonly DiskConfig[];
  /** The console device: 'uart' (default; Linux ttyS0) or 'virtio' (virtio-console, Linux hvc0). */
  console?: 'uart' | 'virtio';
  /** Add a virtio-rng device fed by `entropy` (default true). */
  virtioRng?: boolean;
  /** Guest console bytes (UART and SBI console) also go here; the 'console' event sees them too. */
  consoleOutput?: ConsoleOutput;
  /** Experimental / vendor SBI extensions answered in TypeScript (lib/sbi/user-extension.ts). */
  sbiExtensions?: readonly SbiExtension[];
  /** In-kernel SBI extensions to enable (true) or disable (false) before the first run. */
  inKernelSbi?: Partial<Record<SbiExtName, boolean>>;
  reboot?: RebootPolicy;
  /** Wall-clock limit for the whole run, all reboots included (ms). */
  timeoutMs?: number;
  /** Source of /chosen/rng-seed and virtio-rng bytes (default the host's CSPRNG,
   * host/entropy.ts); tests inject a deterministic one. */
  entropy?: (buffer: Uint8Array) => void;
  /** Non-fatal problems (e.g. this host cannot enable DBCN). Default: process.emitWarning. */
  warn?: (message: string) => void;
}

export interface SystemEventInfo {
  type: 'shutdown' | 'reboot' | 'crash';
  hartId?: number;
  srstReason?: bigint;
}

/** Details of one boot, for tests and verbose logs. */
export interface BootInfo {
  boot: number;
  backend: string;
  image: LoadedImage;
  fdtAddress: bigint;
  fdt: Uint8Array;
  initrd?: InitrdPlacement;
  vm: Vm;
  vcpus: readonly Vcpu[];
  board: Board;
}

export const DEFAULT_MAX_REBOOTS = 8;
/** /chosen/rng-seed length. QEMU virt writes 32 bytes; Linux (drivers/of/fdt.c early_init_dt_scan_chosen)
 * mixes in whatever length is there, so 64 gives the early pool more without costing anything. */
export const RNG_SEED_BYTES = 64;
const BOOT_HART_ID = 0;
/** core.mode: 1 = S-mode (kvm-riscv-abi.md §3.4). */
const MODE_S = 1n;
/** Harts the memory map's PLIC window and the FDT cpu nodes are laid out for. */
export const MAX_VCPUS = 64;

/** A bad configuration or input file, found before anything runs. */
export class MachineConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineConfigError';
  }
}

interface OpenDisk { fd: number; size: number; readonly: boolean; path: string }

export interface MachineEvents {
  console: [bytes: Uint8Array];
  exit: [record: ExitTraceRecord];
  system: [event: SystemEventInfo];
  restart: [count: number];
  boot: [info: BootInfo];
}

export class Machine extends EventEmitter<MachineEvents> {
  readonly config: Readonly<MachineConfig>;
  readonly memorySize: number;
  readonly vcpuCount: number;
  /** Exit counts of every boot so far, by reason. */
  readonly statistics = new ExitStatistics();
  /** Settles once, with how the guest ended; never rejects. */
  readonly done: Promise<MachineEnd>;
  private settle!: (end: MachineEnd) => void;
  private state: 'new' | 'starting' | 'running' | 'ended' = 'new';
  private readonly abort = new AbortController();
  private hypervisor?: Hypervisor;
  private ownsHypervisor = false;
  private disks: OpenDisk[] = [];
  private board?: Board;
  /** Host console bytes not yet handed to a guest device, and who gets them (see sendInput). */
  private pendingInput: Uint8Array[] = [];
  private inputTarget: 'undecided' | 'uart' | 'virtio' | 'sbi' = 'undecided';
  private startedAt = 0;
  private reboots = 0;
  private readonly sbi: SbiRegistry;

  constructor(config: MachineConfig) {
    super();
    checkMachineConfig(config);
    this.config = config;
    this.memorySize = config.memorySize ?? DEFAULT_RAM_SIZE;
    this.vcpuCount = config.vcpus ?? 1;
    // Built here, not at start(), so a bad user extension (overlapping EIDs, no handler) is an
    // error of the constructor rather than of a running machine.
    this.sbi = this.sbiRegistry();
    this.done = new Promise((resolve) => { this.settle = resolve; });
  }

  /** The backend in use once started ('kvm' or 'emulator'). */
  get backend(): string | undefined {
    return this.hypervisor?.backend;
  }

  /**
   * Opens the backend, checks the inputs, boots hart 0. Resolves when the guest runs; `done` tells
   * how it ends. Rejects (and `done` settles with kind 'error') for bad input or a backend failure.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new KvmStateError('ERR_KVM_BAD_STATE', `start() called twice (machine is ${this.state})`);
    this.state = 'starting';
    this.startedAt = monotonicMs();
    try {
      this.checkImagesFit();
      this.openDisks();
      const b = this.config.backend ?? 'auto';
      if (typeof b === 'string') {
        this.hypervisor = await openHypervisor({ backend: b });
        this.ownsHypervisor = true;
      } else {
        this.hypervisor = b;
      }
      const first = this.boot();
      this.state = 'running';
      void this.runBoots(first);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.finish({ kind: 'error', reason: error.message, error, reboots: this.reboots });
      throw error;
    }
  }

  /** Stops every vCPU; `done` then settles (kind 'shutdown', stoppedByHost). */
  stop(): void {
    this.abort.abort();
  }

  /**
   * Bytes for the guest console. They wait here until the guest shows which console it reads: the
   * virtio-console when configured, else the UART once the guest enables its receive interrupt
   * (Linux's 8250 driver, when the tty opens; board.ts), or the SBI console (DBCN console_read, legacy getchar) when the guest calls that
   * first, as a bare-metal program does.
   */
  sendInput(bytes: Uint8Array | string): void {
    if (typeof bytes !== 'string' && !(bytes instanceof Uint8Array)) {
      throw new TypeError(`sendInput: input must be a string or a Uint8Array, got ${describeValue(bytes)}`);
    }
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes);
    if (data.length === 0) return;
    this.pendingInput.push(data);
    this.deliverInput();
  }

  private deliverInput(): void {
    const board = this.board;
    if (!board || (this.inputTarget !== 'uart' && this.inputTarget !== 'virtio')) return;
    while (this.pendingInput.length > 0) {
      const chunk = this.pendingInput[0]!;
      const taken = this.inputTarget === 'uart' ? board.uart.input(chunk) : board.virtioConsole!.input(chunk);
      if (taken < chunk.length) {
        // The device's host queue is full: keep the rest for later.
        this.pendingInput[0] = chunk.subarray(taken);
        return;
      }
      this.pendingInput.shift();
    }
  }

  /** The SBI console's input side: takes queued host bytes. */
  private sbiInput: ConsoleInput = {
    read: (max: number): Uint8Array => {
      if (this.inputTarget === 'undecided') this.inputTarget = 'sbi';
      if (this.inputTarget !== 'sbi' || this.pendingInput.length === 0) return new Uint8Array(0);
      const chunk = this.pendingInput[0]!;
      const out = chunk.subarray(0, max);
      if (out.length === chunk.length) this.pendingInput.shift();
      else this.pendingInput[0] = chunk.subarray(out.length);
      return Uint8Array.from(out);
    },
  };

  /** Validates kernel and initrd against RAM without touching anything (the same code as boot). */
  private checkImagesFit(): void {
    let image: LoadedImage;
    try {
      image = loadKernelImage(this.config.kernel, { base: RAM_BASE, size: this.memorySize }, VALIDATE_ONLY);
    } catch (e) {
      throw new MachineConfigError(`kernel: ${e instanceof Error ? e.message : String(e)}`);
    }
    let fdtAddr: bigint;
    try {
      fdtAddr = fdtAddress(this.memorySize, FDT_MAX_SIZE, image.end);
    } catch (e) {
      throw new MachineConfigError(`memory: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.config.initrd) {
      if (this.config.initrd.length >= this.memorySize) {
        throw new MachineConfigError(`initrd: ${this.config.initrd.length} bytes do not fit in ${this.memorySize} bytes of RAM`);
      }
      try {
        placeInitrd(this.memorySize, this.config.initrd.length, image.end, fdtAddr);
      } catch (e) {
        throw new MachineConfigError(`initrd: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Opens every disk before the first boot, so a missing or unreadable one fails start(). */
  private openDisks(): void {
    for (const d of this.config.disks ?? []) {
      let fd: number;
      try {
        // O_NONBLOCK: opening a FIFO read-only would otherwise wait for a writer forever; a regular
        // file or block device ignores it for reads and writes (open(2)), and fstat below refuses
        // anything else.
        fd = openSync(d.path, (d.readonly ? fsConstants.O_RDONLY : fsConstants.O_RDWR) | fsConstants.O_NONBLOCK);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
        throw new MachineConfigError(`disk ${d.path}: ${why}`);
      }
      this.disks.push({ fd, size: 0, readonly: d.readonly ?? false, path: d.path });
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isBlockDevice()) throw new MachineConfigError(`disk ${d.path}: not a regular file`);
      if (st.size % 512 !== 0) throw new MachineConfigError(`disk ${d.path}: size ${st.size} is not a multiple of 512 bytes`);
      this.disks[this.disks.length - 1]!.size = st.size;
    }
  }

  private warn(message: string): void {
    if (this.config.warn) this.config.warn(message);
    else process.emitWarning(message, { code: 'KVM_RISCV_MACHINE' });
  }

  private consoleWrite = (bytes: Uint8Array): void => {
    this.config.consoleOutput?.write(bytes);
    if (this.listenerCount('console') > 0) this.emit('console', Uint8Array.from(bytes));
  };

  /** Sets every in-kernel SBI extension the configuration names (DBCN on unless said otherwise). */
  private configureInKernelSbi(vcpu: Vcpu): void {
    const wanted: Partial<Record<SbiExtName, boolean>> = { DBCN: true, ...this.config.inKernelSbi };
    for (const [name, on] of Object.entries(wanted) as [SbiExtName, boolean][]) {
      try {
        vcpu.setReg(regId(`sbi_ext.${name}`), on ? 1n : 0n);
      } catch (e) {
        const msg = `cannot ${on ? 'enable' : 'disable'} in-kernel SBI extension ${name} on vCPU ${vcpu.id}: ${e instanceof Error ? e.message : String(e)}`;
        // The default DBCN request is best effort (a 6.1-6.6 host lacks it); an explicit request is not.
        if (this.config.inKernelSbi?.[name] === undefined) this.warn(msg);
        else throw new MachineConfigError(msg);
      }
    }
  }

  /** One boot: a fresh VM, RAM, vCPUs, images, board and FDT. */
  private boot(): BootInfo {
    const hv = this.hypervisor!;
    const vm = hv.createVm(this.config.vmOptions);
    try {
      if (this.vcpuCount > vm.capabilities.maxVcpus) throw new MachineConfigError(`vcpus: ${this.vcpuCount} is more than this backend's ${vm.capabilities.maxVcpus}`);
      let ram: GuestMemory;
      try {
        ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: this.memorySize });
      } catch (e) {
        // The backend cannot give this much RAM (KVM's mmap, the emulator's typed-array limit).
        if (e instanceof KvmError && e.code === 'ENOMEM') throw new MachineConfigError(`memory: ${e.message}`);
        throw e;
      }
      const vcpus: Vcpu[] = [];
      for (let id = 0; id < this.vcpuCount; id++) {
        const vcpu = vm.createVcpu(id);
        this.configureInKernelSbi(vcpu);
        vcpus.push(vcpu);
      }
      const image = loadKernelImage(this.config.kernel, { base: RAM_BASE, size: this.memorySize }, ram);
      const fdtAddr = fdtAddress(this.memorySize, FDT_MAX_SIZE, image.end);
      let initrd: InitrdPlacement | undefined;
      if (this.config.initrd) {
        initrd = placeInitrd(this.memorySize, this.config.initrd.length, image.end, fdtAddr);
        const start = initrd.start;
        readImage(this.config.initrd, (reader) => copyImage(reader, 0, reader.length, ram, start));
      }
      const entropy = this.config.entropy ?? hostRandomFill;
      const useVirtioConsole = this.config.console === 'virtio';
      this.inputTarget = useVirtioConsole ? 'virtio' : this.inputTarget === 'sbi' ? 'sbi' : 'undecided';
      const board = buildBoard({
        vcpus,
        memory: ram,
        consoleSink: this.consoleWrite,
        disks: this.disks,
        virtioConsole: useVirtioConsole,
        rngSource: this.config.virtioRng === false ? undefined : entropy,
        onUartReceiverReady: () => {
          if (this.inputTarget === 'undecided') {
            this.inputTarget = 'uart';
            this.deliverInput();
          }
        },
      });
      const seed = new Uint8Array(RNG_SEED_BYTES);
      entropy(seed);
      const { blob } = buildMachineFdt({
        harts: vcpus.map((v) => describeHart(v)),
        timebaseFrequency: readTimebaseFrequency(vcpus[0]!),
        ram: { base: RAM_BASE, size: this.memorySize },
        bootargs: this.config.cmdline ?? '',
        stdoutPath: board.stdoutPath,
        initrd,
        rngSeed: seed,
        nodeWriters: [(ctx) => board.writeFdt(ctx)],
      });
      if (blob.length > FDT_MAX_SIZE) {
        // The command line is the only part of the tree a user can grow without bound.
        const cmdlineBytes = new TextEncoder().encode(this.config.cmdline ?? '').length;
        throw new MachineConfigError(cmdlineBytes > 0
          ? `cmdline: with this ${cmdlineBytes}-byte command line the device tree is ${blob.length} bytes, more than its ${FDT_MAX_SIZE}-byte slot`
          : `the device tree is ${blob.length} bytes, more than its ${FDT_MAX_SIZE}-byte slot`);
      }
      ram.writeBytes(fdtAddr, blob);

      const boot = vcpus[BOOT_HART_ID]!;
      boot.setReg(REG_PC, image.entry);
      boot.setReg(REG_A0, BigInt(BOOT_HART_ID));
      boot.setReg(REG_A1, fdtAddr);
      boot.setReg(REG_MODE, MODE_S);

      this.board = board;
      this.deliverInput();
      const info: BootInfo = { boot: this.reboots, backend: hv.backend, image, fdtAddress: fdtAddr, fdt: blob, initrd, vm, vcpus, board };
      this.emit('boot', info);
      return info;
    } catch (e) {
      vm.close();
      throw e;
    }
  }

  private sbiRegistry(): SbiRegistry {
    const sbi = new SbiRegistry();
    const output = { write: this.consoleWrite };
    sbi.register(createDbcnExtension({ output, input: this.sbiInput }));
    for (const e of createLegacyConsoleExtensions({ output, input: this.sbiInput })) sbi.register(e);
    (this.config.sbiExtensions ?? []).forEach((e, i) => {
      try {
        sbi.register(e);
      } catch (err) {
        // Same class (TypeError / RangeError), with the option named.
        const message = `sbiExtensions[${i}]: ${err instanceof Error ? err.message : String(err)}`;
        throw err instanceof TypeError ? new TypeError(message) : new RangeError(message);
      }
    });
    return sbi;
  }

  private onExit = (hartId: number, exit: VcpuExit, outcome: ExitOutcome): void => {
    this.statistics.record(exit);
    if (this.listenerCount('exit') > 0) this.emit('exit', traceRecord(monotonicMs() - this.startedAt, hartId, exit, outcome));
  };

  /** Runs boots until the guest ends for good, then settles `done`. */
  private async runBoots(first: BootInfo): Promise<void> {
    let info: BootInfo | undefined = first;
    const policy = this.config.reboot?.policy ?? 'restart';
    const maxReboots = this.config.reboot?.maxReboots ?? DEFAULT_MAX_REBOOTS;
    const sbi = this.sbi;
    try {
      for (;;) {
        const remaining = this.config.timeoutMs === undefined ? undefined : Math.max(1, this.config.timeoutMs - (monotonicMs() - this.startedAt));
        let result: RunResult;
        try {
          ({ result } = await runVm(info.vm, { sbi, bus: info.board.bus }, { timeoutMs: remaining, signal: this.abort.signal, onExit: this.onExit }));
        } finally {
          this.board = undefined;
          info.vm.close();
          info = undefined;
        }
        const end = this.interpret(result);
        if (end) return this.finish(end);
        // A reboot the policy allows: boot again from the same images.
        if (policy === 'exit' || this.reboots >= maxReboots) {
          const srstReason = (result as { reason?: bigint }).reason;
          return this.finish({
            kind: 'reboot', srstReason, reboots: this.reboots,
            reason: policy === 'exit' ? 'the guest asked for a reboot' : `the guest asked for a reboot after ${this.reboots} reboots (limit ${maxReboots})`,
          });
        }
        this.reboots++;
        this.emit('restart', this.reboots);
        info = this.boot();
      }
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.finish({ kind: 'error', reason: error.message, error, reboots: this.reboots });
    }
  }

  /** MachineEnd for a run result, or undefined for a reboot (the policy decides). */
  private interpret(r: RunResult): MachineEnd | undefined {
    const reboots = this.reboots;
    switch (r.kind) {
      case 'shutdown':
        this.emit('system', { type: 'shutdown', srstReason: r.reason });
        return { kind: 'shutdown', srstReason: r.reason, reason: describeSrstReason('shutdown', r.reason), reboots };
      case 'reset':
        this.emit('system', { type: 'reboot', srstReason: r.reason });
        return undefined;
      case 'crash':
        this.emit('system', { type: 'crash' });
        return { kind: 'crash', reason: 'the guest reported a crash (KVM_SYSTEM_EVENT_CRASH)', reboots };
      case 'timeout':
        return { kind: 'timeout', reason: `the guest was still running after ${this.config.timeoutMs} ms`, reboots };
      case 'interrupted':
        return { kind: 'shutdown', stoppedByHost: true, reason: 'stopped by the host', reboots };
      case 'error':
        return { kind: 'error', reason: r.message, error: new Error(r.message), reboots };
    }
  }

  private finish(end: MachineEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.board = undefined;
    for (const d of this.disks) {
      try { closeSync(d.fd); } catch { /* already closed */ }
    }
    this.disks = [];
    if (this.ownsHypervisor) {
      try { this.hypervisor?.close(); } catch { /* best effort */ }
    }
    this.settle(end);
  }
}

/** "shutdown (reason: system failure)" etc., SBI v2.0 §10.1 Table 50. */
export function describeSrstReason(what: string, reason: bigint): string {
  if (reason === 0n) return `the guest asked for a ${what}`;
  if (reason === 1n) return `the guest asked for a ${what} (reason: system failure)`;
  const kind = reason >= 0xf0000000n ? 'vendor-specific' : reason >= 0xe0000000n ? 'SBI-implementation-specific' : 'reserved';
  return `the guest asked for a ${what} (${kind} reason 0x${reason.toString(16)})`;
}


function checkOptional(config: MachineConfig, key: keyof MachineConfig, type: 'boolean' | 'function' | 'string', what: string): void {
  const v = config[key];
  if (v !== undefined && typeof v !== type) throw new TypeError(`${key} must be ${what}, got ${describeValue(v)}`);
}

/** The longest delay setTimeout honours (Node.js timers: a larger one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Every MachineConfig field checked before anything is opened: TypeError for a value of the wrong
 * type, RangeError for one out of range, each naming the field and the value. Files (kernel
 * contents against RAM, initrd placement, disks) are checked by start(), as MachineConfigError.
 */
function checkMachineConfig(config: MachineConfig): void {
  if (!isObject(config)) throw new TypeError(`the Machine config must be an object, got ${describeValue(config)}`);
  const m = config.memorySize ?? DEFAULT_RAM_SIZE;
  if (typeof m !== 'number') throw new TypeError(`memorySize must be a number of bytes, got ${describeValue(m)}`);
  if (!Number.isSafeInteger(m)) throw new RangeError(`memorySize must be a whole number of bytes, got ${m}`);
  if (m % PAGE_SIZE !== 0) throw new RangeError(`memorySize ${m} is not a multiple of 4 KiB`);
  if (m < MIN_RAM_SIZE) throw new RangeError(`memorySize ${m} is less than the minimum ${MIN_RAM_SIZE} bytes`);
  if (m > MAX_RAM_SIZE) throw new RangeError(`memorySize ${m} is more than the maximum ${MAX_RAM_SIZE} bytes`);
  const n = config.vcpus ?? 1;
  if (typeof n !== 'number') throw new TypeError(`vcpus must be a number, got ${describeValue(n)}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_VCPUS) throw new RangeError(`vcpus ${n} is not 1..${MAX_VCPUS}`);

  if (!(config.kernel instanceof Uint8Array) && !(config.kernel instanceof ImageFile)) {
    throw new TypeError(`kernel must be a Uint8Array holding the image or an ImageFile naming its file (new ImageFile(path)), got ${describeValue(config.kernel)}`);
  }
  if (config.kernel.length === 0) throw new RangeError('kernel is empty (0 bytes)');
  if (config.initrd !== undefined) {
    if (!(config.initrd instanceof Uint8Array) && !(config.initrd instanceof ImageFile)) throw new TypeError(`initrd must be a Uint8Array holding the ramdisk or an ImageFile naming its file, got ${describeValue(config.initrd)}`);
    if (config.initrd.length === 0) throw new RangeError('initrd is empty (0 bytes)');
  }
  checkOptional(config, 'cmdline', 'string', 'a string');
  // /chosen/bootargs is a NUL-terminated string (DTSpec §2.2.4.1): the rest would be lost.
  const nul = config.cmdline?.indexOf('\0') ?? -1;
  if (nul >= 0) throw new RangeError(`cmdline contains a NUL character at offset ${nul}; the device tree would cut it there`);

  if (config.disks !== undefined && !Array.isArray(config.disks)) throw new TypeError(`disks must be an array of { path, readonly? }, got ${describeValue(config.disks)}`);
  (config.disks ?? []).forEach((d: unknown, i) => {
    if (!isObject(d)) throw new TypeError(`disks[${i}] must be an object { path, readonly? }, got ${describeValue(d)}`);
    if (typeof d.path !== 'string') throw new TypeError(`disks[${i}].path must be a string, got ${describeValue(d.path)}`);
    if (d.path === '' || d.path.includes('\0')) throw new RangeError(`disks[${i}].path ${describeValue(d.path)} is not a file name`);
    if (d.readonly !== undefined && typeof d.readonly !== 'boolean') throw new TypeError(`disks[${i}].readonly must be a boolean, got ${describeValue(d.readonly)}`);
  });

  const b = config.backend;
  if (typeof b === 'string') {
    if (!(BACKEND_CHOICES as readonly string[]).includes(b)) throw new RangeError(`backend must be one of ${BACKEND_CHOICES.join(', ')} or a Hypervisor; got '${b}'`);
  } else if (b !== undefined && (!isObject(b) || typeof (b as { createVm?: unknown }).createVm !== 'function')) {
    throw new TypeError(`backend must be one of ${BACKEND_CHOICES.join(', ')} or a Hypervisor (with createVm()), got ${describeValue(b)}`);
  }
  if (config.vmOptions !== undefined && !isObject(config.vmOptions)) throw new TypeError(`vmOptions must be an object, got ${describeValue(config.vmOptions)}`);
  if (config.console !== undefined && config.console !== 'uart' && config.console !== 'virtio') throw new RangeError(`console must be 'uart' or 'virtio'; got ${describeValue(config.console)}`);
  checkOptional(config, 'virtioRng', 'boolean', 'a boolean');
  // Each virtio device takes one of the memory map's transport slots (layout.ts).
  const virtioDevices = (config.disks?.length ?? 0) + (config.console === 'virtio' ? 1 : 0) + (config.virtioRng === false ? 0 : 1);
  if (virtioDevices > VIRTIO_MMIO_COUNT) {
    const extras = virtioDevices - (config.disks?.length ?? 0);
    throw new RangeError(`disks: ${config.disks?.length} disks and ${extras} other virtio device${extras === 1 ? '' : 's'} need ${virtioDevices} virtio-mmio slots; the memory map has ${VIRTIO_MMIO_COUNT}`);
  }
  const out = config.consoleOutput;
  if (out !== undefined && (typeof out !== 'object' || out === null || typeof out.write !== 'function')) {
    throw new TypeError(`consoleOutput must be an object with a write(bytes) method, got ${describeValue(out)}`);
  }
  if (config.sbiExtensions !== undefined && !Array.isArray(config.sbiExtensions)) throw new TypeError(`sbiExtensions must be an array, got ${describeValue(config.sbiExtensions)}`);

  if (config.inKernelSbi !== undefined && !isObject(config.inKernelSbi)) throw new TypeError(`inKernelSbi must be an object such as { PMU: false }, got ${describeValue(config.inKernelSbi)}`);
  for (const [name, on] of Object.entries(config.inKernelSbi ?? {})) {
    if (!(SBI_EXTS as readonly string[]).includes(name)) throw new RangeError(`inKernelSbi: unknown extension '${name}' (one of ${SBI_EXTS.join(', ')})`);
    if (typeof on !== 'boolean') throw new TypeError(`inKernelSbi.${name} must be true or false, got ${describeValue(on)}`);
  }

  if (config.reboot !== undefined && !isObject(config.reboot)) throw new TypeError(`reboot must be an object such as { policy: 'exit' }, got ${describeValue(config.reboot)}`);
  const policy = config.reboot?.policy ?? 'restart';
  if (policy !== 'restart' && policy !== 'exit') throw new RangeError(`reboot.policy must be 'restart' or 'exit'; got ${describeValue(policy)}`);
  const max = config.reboot?.maxReboots ?? DEFAULT_MAX_REBOOTS;
  if (typeof max !== 'number') throw new TypeError(`reboot.maxReboots must be a number, got ${describeValue(max)}`);
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`reboot.maxReboots ${max} is not a non-negative integer`);

  const t = config.timeoutMs;
  if (t !== undefined) {
    if (typeof t !== 'number') throw new TypeError(`timeoutMs must be a number of milliseconds, got ${describeValue(t)}`);
    if (!(t > 0)) throw new RangeError(`timeoutMs ${t} is not positive`);
    if (t > MAX_TIMEOUT_MS) throw new RangeError(`timeoutMs ${t} is more than ${MAX_TIMEOUT_MS} (about 24.8 days), the longest timer Node.js keeps`);
  }
  checkOptional(config, 'entropy', 'function', 'a function (buffer) => void');
  checkOptional(config, 'warn', 'function', 'a function (message) => void');
}
