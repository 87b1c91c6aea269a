/**
 * Runs a bare-metal program: one VM, RAM at 0x8000_0000, one boot hart entered in S-mode at the
 * image's entry with a0 = hart id and a1 = the FDT's address (Linux boot protocol,
 * Documentation/arch/riscv/boot.rst, which bare-metal S-mode payloads follow too). The console is
 * SBI DBCN, enabled through ONE_REG before the first run (KVM keeps it disabled by default,
 * kvm-riscv-abi.md §3.10); legacy putchar/getchar are answered too when the host forwards them.
 *
 * Steps, in order (each may throw before anything runs):
 *   1. createVm, one RAM slot, vCPU 0, enable DBCN (a 6.1-6.6 host has no such register: warn only,
 *      as kvmtool does);
 *   2. load the image (lib/boot/elf.ts): ELF segments at p_paddr, or a flat binary at RAM + 2 MiB;
 *   3. describe the hart from its registers, write the machine FDT near the top of RAM;
 *   4. set pc / a0 / a1 / mode, then run until SRST, a timeout or an error (run-loop.ts).
 */
import type { Hypervisor, Vcpu, Vm, VmOptions } from '../backend/types.js';
import { REG_A0, REG_A1, REG_MODE, REG_PC, REG_SBI_EXT_DBCN } from '../abi/regs.js';
import { loadKernelImage, type LoadedImage } from '../boot/elf.js';
import { describeHart, readTimebaseFrequency } from '../boot/hart-description.js';
import { RAM_BASE, FDT_MAX_SIZE, fdtAddress } from '../boot/layout.js';
import { placeInitrd, type InitrdPlacement } from '../boot/initrd.js';
import { buildMachineFdt } from '../boot/machine-fdt.js';
import { GuestAddressSpace } from '../sbi/guest-memory.js';
import { SbiRegistry, type SbiExtension } from '../sbi/registry.js';
import { createDbcnExtension, type ConsoleInput, type ConsoleOutput } from '../sbi/dbcn.js';
import { createLegacyConsoleExtensions } from '../sbi/legacy-console.js';
import { MmioBus } from './bus.js';
import { newExitCounters, type ExitCounters, type MachineState } from './dispatch.js';
import { runVcpus, type RunResult } from './run-loop.js';
import { checkFunction, checkMethods, checkOptionalSignal, checkOptionsObject, checkTimeoutMs, describeValue, isObject } from '../option-checks.js';

export interface BareMetalOptions {
  hypervisor: Hypervisor;
  /** Passed to createVm (e.g. the emulator's sbiV01 to forward legacy console calls). */
  vmOptions?: VmOptions;
  image: Uint8Array;
  /** RAM size in bytes (multiple of 4 KiB). */
  memorySize: number;
  /** /chosen/bootargs. */
  bootargs?: string;
  /** An initial ramdisk, placed below the FDT and announced in /chosen (lib/boot/initrd.ts). */
  initrd?: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  output: ConsoleOutput;
  input?: ConsoleInput;
  /** Extra SBI extensions (experimental / vendor) to answer. */
  sbiExtensions?: readonly SbiExtension[];
  /** Non-fatal problems (e.g. DBCN cannot be enabled on this host). */
  warn?: (message: string) => void;
  /** Called after loading, before the first run (tests inspect the VM here). */
  onReady?: (info: BareMetalSetup) => void;
}

export interface BareMetalSetup {
  vm: Vm;
  vcpu: Vcpu;
  image: LoadedImage;
  fdtAddress: bigint;
  fdt: Uint8Array;
  initrd?: InitrdPlacement;
}

export interface BareMetalResult {
  result: RunResult;
  counters: ExitCounters;
  unmappedReads: number;
  unmappedWrites: number;
  unsupportedSbiCalls: number;
}

const BOOT_HART_ID = 0;
/** core.mode: 1 = S-mode (kvm-riscv-abi.md §3.4). */
const MODE_S = 1n;

/** Largest RAM a bare-metal run asks for: the RAM window must stay below 2^64 and a number must
 * hold it exactly. The backend refuses what it cannot allocate (KvmError ENOMEM). */
const MAX_MEMORY_SIZE = Number.MAX_SAFE_INTEGER - (Number.MAX_SAFE_INTEGER % 4096);

/**
 * Every BareMetalOptions field checked before a VM is created: TypeError for a wrong type,
 * RangeError out of range, each naming the field and the value. The image's contents (format,
 * fit in RAM) are checked by the loader, still before anything runs.
 */
function checkBareMetalOptions(options: unknown): void {
  const who = 'runBareMetal';
  checkOptionsObject(who, options);
  const opts = options as Record<string, unknown>;
  checkMethods(who, 'hypervisor', opts.hypervisor, ['createVm'], false);
  if (opts.vmOptions !== undefined && !isObject(opts.vmOptions)) throw new TypeError(`${who}: vmOptions must be an object, got ${describeValue(opts.vmOptions)}`);
  if (!(opts.image instanceof Uint8Array)) throw new TypeError(`${who}: image must be a Uint8Array holding the program (read the file first), got ${describeValue(opts.image)}`);
  if (opts.image.length === 0) throw new RangeError(`${who}: image is empty`);
  const m = opts.memorySize;
  if (typeof m !== 'number') throw new TypeError(`${who}: memorySize must be a number of bytes, got ${describeValue(m)}`);
  // KVM_SET_USER_MEMORY_REGION wants page-multiple sizes (api.rst §4.35).
  if (!Number.isInteger(m) || m <= 0 || m % 4096 !== 0 || m > MAX_MEMORY_SIZE) throw new RangeError(`${who}: memorySize must be a positive multiple of 4096, got ${m}`);
  if (opts.bootargs !== undefined && typeof opts.bootargs !== 'string') throw new TypeError(`${who}: bootargs must be a string, got ${describeValue(opts.bootargs)}`);
  if (opts.initrd !== undefined) {
    if (!(opts.initrd instanceof Uint8Array)) throw new TypeError(`${who}: initrd must be a Uint8Array holding the ramdisk, got ${describeValue(opts.initrd)}`);
    if (opts.initrd.length === 0) throw new RangeError(`${who}: initrd is empty`);
  }
  checkTimeoutMs(who, opts.timeoutMs);
  checkOptionalSignal(who, opts.signal);
  checkMethods(who, 'output', opts.output, ['write'], false);
  checkMethods(who, 'input', opts.input, ['read'], true);
  if (opts.sbiExtensions !== undefined && !Array.isArray(opts.sbiExtensions)) throw new TypeError(`${who}: sbiExtensions must be an array, got ${describeValue(opts.sbiExtensions)}`);
  checkFunction(who, 'warn', opts.warn, true);
  checkFunction(who, 'onReady', opts.onReady, true);
}

export async function runBareMetal(opts: BareMetalOptions): Promise<BareMetalResult> {
  checkBareMetalOptions(opts);
  const vm = opts.hypervisor.createVm(opts.vmOptions);
  try {
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: opts.memorySize });
    const vcpu = vm.createVcpu(BOOT_HART_ID);
    try {
      vcpu.setReg(REG_SBI_EXT_DBCN, 1n);
    } catch (e) {
      opts.warn?.(`cannot enable SBI DBCN on this host (${e instanceof Error ? e.message : String(e)}); the guest will have no SBI console`);
    }

    const image = loadKernelImage(opts.image, { base: RAM_BASE, size: opts.memorySize }, ram);
    // The FDT slot does not depend on the FDT's size (any size up to FDT_MAX_SIZE lands in the
    // same 2 MiB slot), so the initrd can be placed below it before the FDT is written.
    const fdtAddr = fdtAddress(opts.memorySize, FDT_MAX_SIZE, image.end);
    let initrd: InitrdPlacement | undefined;
    if (opts.initrd) {
      initrd = placeInitrd(opts.memorySize, opts.initrd.length, image.end, fdtAddr);
      ram.writeBytes(initrd.start, opts.initrd);
    }
    const { blob } = buildMachineFdt({
      harts: [describeHart(vcpu)],
      timebaseFrequency: readTimebaseFrequency(vcpu),
      ram: { base: RAM_BASE, size: opts.memorySize },
      bootargs: opts.bootargs ?? '',
      initrd,
    });
    if (blob.length > FDT_MAX_SIZE) throw new RangeError(`the FDT is ${blob.length} bytes, more than ${FDT_MAX_SIZE}`);
    ram.writeBytes(fdtAddr, blob);

    vcpu.setReg(REG_PC, image.entry);
    vcpu.setReg(REG_A0, BigInt(BOOT_HART_ID));
    vcpu.setReg(REG_A1, fdtAddr);
    vcpu.setReg(REG_MODE, MODE_S);
    opts.onReady?.({ vm, vcpu, image, fdtAddress: fdtAddr, fdt: blob, initrd });

    const sbi = new SbiRegistry();
    sbi.register(createDbcnExtension({ output: opts.output, input: opts.input }));
    for (const e of createLegacyConsoleExtensions({ output: opts.output, input: opts.input })) sbi.register(e);
    for (const e of opts.sbiExtensions ?? []) sbi.register(e);
    const bus = new MmioBus();
    const state: MachineState = {
      hartId: BOOT_HART_ID,
      sbi,
      sbiContext: { memory: new GuestAddressSpace(() => vm.memoryRegions()) },
      bus,
      counters: newExitCounters(),
    };
    const result = await runVcpus([{ vcpu, state }], { timeoutMs: opts.timeoutMs, signal: opts.signal });
    return {
      result,
      counters: state.counters,
      unmappedReads: bus.stats.unmappedReads,
      unmappedWrites: bus.stats.unmappedWrites,
      unsupportedSbiCalls: sbi.unsupportedCalls,
    };
  } finally {
    vm.close();
  }
}
