/**
 * A tiny machine for software-KVM tests: one VM on the emulator backend, 1 MiB of RAM at
 * 0x8000_0000 holding an assembled snippet, vCPU 0 pointed at it; more vCPUs on request.
 */
import { createEmulator, type EmulatorOptions } from '../../../lib/backend/emulator/index.js';
import type { GuestMemory, Vcpu, VcpuExit, Vm, VmOptions } from '../../../lib/backend/types.js';
import { REG_PC } from '../../../lib/abi/regs.js';
import { assemble } from './asm.js';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 1 << 20;
/** The "report" call the snippets use to hand values to the test: a vendor-range SBI call. */
export const REPORT_EID = 0x0900_0000;
/** A scratch data page inside RAM the snippets use for flags. */
export const DATA = RAM_BASE + 0x8_0000;

export interface TestMachine {
  vm: Vm;
  ram: GuestMemory;
  vcpus: Vcpu[];
}

export interface MachineOptions {
  vcpus?: number;
  vm?: VmOptions;
  emulator?: EmulatorOptions;
  logDirty?: boolean;
}

export function makeMachine(source: string, opts: MachineOptions = {}): TestMachine {
  const hv = createEmulator(opts.emulator);
  const vm = hv.createVm(opts.vm);
  const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE, logDirty: opts.logDirty });
  ram.writeBytes(RAM_BASE, assemble(source, RAM_BASE));
  const vcpus: Vcpu[] = [];
  for (let i = 0; i < (opts.vcpus ?? 1); i++) vcpus.push(vm.createVcpu(i));
  vcpus[0].setReg(REG_PC, BigInt(RAM_BASE));
  return { vm, ram, vcpus };
}

/** Runs until an exit that is not a report, collecting the reports' first argument. */
export async function runCollecting(vcpu: Vcpu, limit = 1000): Promise<{ reports: bigint[][]; last: VcpuExit }> {
  const reports: bigint[][] = [];
  for (let i = 0; i < limit; i++) {
    const exit = await vcpu.run();
    if (exit.reason === 'sbi' && exit.extensionId === REPORT_EID) {
      reports.push([...exit.args]);
      vcpu.setSbiReturn(0, 0);
      continue;
    }
    return { reports, last: exit };
  }
  throw new Error('runCollecting: too many exits');
}

/** Signed view of a u64 register value. */
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
