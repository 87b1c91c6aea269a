/**
 * kvm-riscv public API.
 *
 *   import { openHypervisor, regId } from 'kvm-riscv';
 *   const hv = await openHypervisor({ backend: 'auto' });   // 'kvm' | 'emulator' | 'auto'
 *
 * The backend-neutral types (lib/backend/types.ts), the error classes, the ABI numbers under their
 * kernel names, both backends' entry points, and the VMM building blocks (SBI registry, MMIO bus,
 * exit dispatcher, run loop, boot helpers) for scripts that assemble their own machine.
 */
export type * from './backend/types.js';
export * from './errors.js';
export * from './abi/kvm.js';
export * from './abi/sbi.js';
export * from './abi/regs.js';

export { openKvm, kvmAvailability, isKvmAvailable } from './backend/kvm/index.js';
export type { KvmAvailability } from './backend/kvm/index.js';
export { createEmulator } from './backend/emulator/index.js';
export type { EmulatorOptions } from './backend/emulator/index.js';
export { openHypervisor, BACKEND_CHOICES } from './vmm/select-backend.js';
export type { BackendChoice } from './vmm/select-backend.js';

export { MmioBus } from './vmm/bus.js';
export type { MmioDevice, AccessSize, BusRange, BusStats } from './vmm/bus.js';
export { dispatchExit, newExitCounters } from './vmm/dispatch.js';
export type { MachineState, ExitOutcome, Completion, StopReason, ExitCounters } from './vmm/dispatch.js';
export { runVm, runVcpus, runVcpuUntilStop, applyCompletion } from './vmm/run-loop.js';
export type { RunResult, RunOptions, VcpuBinding } from './vmm/run-loop.js';
export { runBareMetal } from './vmm/bare-metal.js';
export type { BareMetalOptions, BareMetalResult, BareMetalSetup } from './vmm/bare-metal.js';

export * from './sbi/index.js';

export { FdtBuilder, FdtNode, FdtError, parseFdt, findNode, propU32, propU64, propCells, propStrings } from './boot/fdt.js';
export type { ParsedFdt, ParsedFdtNode, FdtReservation } from './boot/fdt.js';
export { KernelImageError, parseElf, loadKernelImage, loadElf, loadFlat, loadLinuxImage, isElf, EM_RISCV } from './boot/elf.js';
export { ImageFile } from './boot/image-file.js';
export type { ImageReader } from './boot/image-file.js';
export { parseRiscvImageHeader } from './boot/linux-image.js';
export type { RiscvImageHeader } from './boot/linux-image.js';
export { placeInitrd } from './boot/initrd.js';
export type { InitrdPlacement } from './boot/initrd.js';
export type { ElfImage, ElfSegment, LoadedImage, RamWindow, ImageSink } from './boot/elf.js';
export * from './boot/layout.js';
export { buildMachineFdt } from './boot/machine-fdt.js';
export type { MachineFdtOptions, MachineFdtContext } from './boot/machine-fdt.js';
export { describeHart, readTimebaseFrequency, isaString, isaExtensionList, mmuType } from './boot/hart-description.js';
export type { HartDescription } from './boot/hart-description.js';

export { Machine, MachineConfigError, describeSrstReason, DEFAULT_MAX_REBOOTS, RNG_SEED_BYTES, MAX_VCPUS } from './vmm/machine.js';
export type { MachineConfig, MachineEnd, MachineEvents, DiskConfig, RebootPolicy, SystemEventInfo, BootInfo } from './vmm/machine.js';
export { ExitStatistics, traceRecord, sbiExtensionLabel } from './vmm/exit-trace.js';
export type { ExitTraceRecord } from './vmm/exit-trace.js';
export type { ExitObserver } from './vmm/run-loop.js';
