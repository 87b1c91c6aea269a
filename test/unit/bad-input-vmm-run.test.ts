// Bad arguments to the VMM run entry points (lib/vmm/select-backend.ts, run-loop.ts, dispatch.ts,
// bare-metal.ts) on the emulator backend, table-driven: the error class the API documents
// (TypeError for a wrong type, RangeError out of range), a message naming the argument and the bad
// value, and "loses nothing": no vCPU ran (pc and state as before, no VM created for runBareMetal),
// and the same VM / hypervisor then runs its guest to the SRST shutdown.
import { describe, expect, it } from 'vitest';
import { REG_PC } from '../../lib/abi/regs.js';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { Hypervisor, Vcpu, Vm } from '../../lib/backend/types.js';
import { GuestAddressSpace } from '../../lib/sbi/guest-memory.js';
import { SbiRegistry } from '../../lib/sbi/registry.js';
import { runBareMetal, type BareMetalOptions } from '../../lib/vmm/bare-metal.js';
import { MmioBus } from '../../lib/vmm/bus.js';
import { dispatchExit, newExitCounters, type MachineState } from '../../lib/vmm/dispatch.js';
import { applyCompletion, runVcpus, runVcpuUntilStop, runVm } from '../../lib/vmm/run-loop.js';
import { openHypervisor } from '../../lib/vmm/select-backend.js';

const RAM = 0x8000_0000;
const RAM_SIZE = 0x10_0000;
type ErrorClass = typeof TypeError | typeof RangeError;

/** The rejection of `p` (fails when it resolves). */
async function rejection(p: () => Promise<unknown>): Promise<Error> {
  try {
    await p();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, the call resolved');
}

function expectClass(e: Error, cls: ErrorClass, message: RegExp): void {
  expect(e, `${e?.name}: ${e?.message}`).toBeInstanceOf(cls);
  expect(e.constructor).toBe(cls);
  expect(e.message).toMatch(message);
}

// --- a guest: one experimental-range SBI call (forwarded to user space), then SRST shutdown -----
const lui = (rd: number, imm20: number): number => ((imm20 << 12) | (rd << 7) | 0x37) >>> 0;
const addi = (rd: number, rs1: number, imm: number): number => (((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13) >>> 0;
const ECALL = 0x0000_0073;
const A0 = 10, A1 = 11, A6 = 16, A7 = 17;
const PROGRAM = new Uint8Array(Uint32Array.from([
  lui(A7, 0x08000), ECALL, // a7 = 0x08000000 (experimental range, forwarded: SBI v2.0 §3)
  lui(A7, 0x53525), addi(A7, A7, 0x354), // a7 = 0x53525354 "SRST" (SBI v2.0 §10)
  addi(A6, 0, 0), addi(A0, 0, 0), addi(A1, 0, 0), ECALL, // system_reset(shutdown, no reason)
]).buffer);

interface Rig { hv: Hypervisor; vm: Vm; vcpu: Vcpu; sbi: SbiRegistry; bus: MmioBus; state: MachineState }

function rig(): Rig {
  const hv = createEmulator();
  const vm = hv.createVm();
  const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM, size: RAM_SIZE });
  ram.writeBytes(RAM, PROGRAM);
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(REG_PC, BigInt(RAM));
  const sbi = new SbiRegistry();
  const bus = new MmioBus();
  const state: MachineState = { hartId: 0, sbi, sbiContext: { memory: new GuestAddressSpace(() => vm.memoryRegions()) }, bus, counters: newExitCounters() };
  return { hv, vm, vcpu, sbi, bus, state };
}

/** Nothing ran: the vCPU is idle at the program's first instruction, no exit was counted. Then the
 * same VM runs the guest to its shutdown through runVm with good options. */
async function expectIntact(r: Rig): Promise<void> {
  expect(r.vm.closed).toBe(false);
  expect(r.vcpu.state).toBe('idle');
  expect(r.vcpu.getReg(REG_PC)).toBe(BigInt(RAM));
  expect(r.state.counters.exits).toBe(0);
  expect(r.sbi.unsupportedCalls).toBe(0);
  const { result } = await runVm(r.vm, { sbi: r.sbi, bus: r.bus }, { timeoutMs: 20_000 });
  expect(result).toEqual({ kind: 'shutdown', reason: 0n });
  expect(r.sbi.unsupportedCalls).toBe(1); // the experimental call, answered NOT_SUPPORTED
  r.vm.close();
  r.hv.close();
}

describe('openHypervisor(options)', () => {
  it.each([
    ['null', null, TypeError, /openHypervisor: options must be an object, got null/],
    ["'emulator' (a string, not { backend })", 'emulator', TypeError, /options must be an object, got 'emulator'/],
    ['an array', [], TypeError, /options must be an object, got an array/],
    ['backend 1', { backend: 1 }, TypeError, /backend must be one of auto, kvm, emulator; got 1/],
    ['backend null', { backend: null }, TypeError, /backend must be one of auto, kvm, emulator; got null/],
    ["backend 'EMULATOR'", { backend: 'EMULATOR' }, RangeError, /backend must be one of auto, kvm, emulator; got 'EMULATOR'/],
    ["emulatorTime 'fast'", { backend: 'emulator', emulatorTime: 'fast' }, RangeError, /emulatorTime must be 'deterministic' or 'realtime'; got 'fast'/],
    ['emulatorTime 1', { backend: 'emulator', emulatorTime: 1 }, TypeError, /emulatorTime must be 'deterministic' or 'realtime'; got 1/],
  ] as const)('%s', async (_what, opts, cls, message) => {
    expectClass(await rejection(() => openHypervisor(opts as never)), cls, message);
  });

  it('still opens the emulator afterwards, and undefined options mean auto', async () => {
    await rejection(() => openHypervisor(null as never));
    const hv = await openHypervisor({ backend: 'emulator' });
    expect(hv.backend).toBe('emulator');
    hv.close();
    const auto = await openHypervisor();
    expect(['kvm', 'emulator']).toContain(auto.backend);
    auto.close();
    // `backend: undefined` is "not given", the same as {}.
    const dflt = await openHypervisor({ backend: undefined });
    expect(dflt.backend).toBe(auto.backend);
    dflt.close();
  });

  it('emulatorTime picks the emulator clock: deterministic by default, realtime when asked', async () => {
    for (const [opts, mode] of [[{ backend: 'emulator' }, 'deterministic'], [{ backend: 'emulator', emulatorTime: 'realtime' }, 'realtime']] as const) {
      const hv = await openHypervisor(opts);
      const vm = hv.createVm();
      expect((vm as unknown as { clock: { mode: string } }).clock.mode).toBe(mode);
      vm.close();
      hv.close();
    }
  });
});

describe('RunOptions (runVm and runVcpus): refused before any vCPU runs', () => {
  // [what, options, class, message]
  const cases = [
    ['null options', null, TypeError, /options must be an object, got null/],
    ['a number as options', 5000, TypeError, /options must be an object, got 5000/],
    ['timeoutMs Infinity', { timeoutMs: Infinity }, RangeError, /timeoutMs Infinity is more than 2147483647/],
    ['timeoutMs 2^31', { timeoutMs: 2 ** 31 }, RangeError, /timeoutMs 2147483648 is more than 2147483647/],
    ['timeoutMs 0', { timeoutMs: 0 }, RangeError, /timeoutMs 0 is not positive/],
    ['timeoutMs -5', { timeoutMs: -5 }, RangeError, /timeoutMs -5 is not positive/],
    ['timeoutMs NaN', { timeoutMs: NaN }, RangeError, /timeoutMs NaN is not positive/],
    ["timeoutMs '10s'", { timeoutMs: '10s' }, TypeError, /timeoutMs must be a number of milliseconds, got '10s'/],
    ['timeoutMs 1000n', { timeoutMs: 1000n }, TypeError, /timeoutMs must be a number of milliseconds, got 1000n/],
    ['signal true', { signal: true }, TypeError, /signal must be an AbortSignal, got true/],
    ['signal an AbortController', { signal: new AbortController() }, TypeError, /signal must be an AbortSignal, got an object \(AbortController\)/],
    ['onExit a string', { onExit: 'log' }, TypeError, /onExit must be a function, got 'log'/],
  ] as const;

  it.each(cases)('runVm: %s', async (_what, opts, cls, message) => {
    const r = rig();
    const e = await rejection(() => runVm(r.vm, { sbi: r.sbi, bus: r.bus }, opts as never));
    expectClass(e, cls, message);
    expect(e.message).toMatch(/^runVm: /);
    await expectIntact(r);
  });

  it.each(cases)('runVcpus: %s', async (_what, opts, cls, message) => {
    const r = rig();
    const e = await rejection(() => runVcpus([{ vcpu: r.vcpu, state: r.state }], opts as never));
    expectClass(e, cls, message);
    expect(e.message).toMatch(/^runVcpus: /);
    await expectIntact(r);
  });

  it('the longest timer Node.js keeps (2^31 - 1 ms) is accepted, and the guest still ends the run', async () => {
    const r = rig();
    const { result } = await runVm(r.vm, { sbi: r.sbi, bus: r.bus }, { timeoutMs: 2 ** 31 - 1 });
    expect(result).toEqual({ kind: 'shutdown', reason: 0n });
    r.vm.close();
    r.hv.close();
  });
});

describe('runVm(vm, machine) and runVcpus(bindings): the other arguments', () => {
  it.each([
    ['vm null', (r: Rig) => runVm(null as never, { sbi: r.sbi, bus: r.bus }), TypeError, /runVm: vm must be an object with memoryRegions\(\), got null/],
    ['vm a string', (r: Rig) => runVm('vm' as never, { sbi: r.sbi, bus: r.bus }), TypeError, /runVm: vm must be .*got 'vm'/],
    ['vm.vcpus missing', (r: Rig) => runVm({ memoryRegions: () => [] } as never, { sbi: r.sbi, bus: r.bus }), TypeError, /runVm: vm.vcpus must be an array, got undefined/],
    ['a VM with no vCPU', (r: Rig) => runVm({ memoryRegions: () => [], vcpus: [] } as never, { sbi: r.sbi, bus: r.bus }), RangeError, /runVm: the VM has no vCPUs/],
    ['machine null', (r: Rig) => runVm(r.vm, null as never), TypeError, /runVm: machine must be an object \{ sbi, bus \}, got null/],
    ['machine.sbi missing', (r: Rig) => runVm(r.vm, { bus: r.bus } as never), TypeError, /runVm: machine.sbi must be an object with handle\(\), got undefined/],
    ['machine.bus a Map', (r: Rig) => runVm(r.vm, { sbi: r.sbi, bus: new Map() } as never), TypeError, /runVm: machine.bus must be an object with read\(\), write\(\); its read is undefined/],
    ['bindings null', () => runVcpus(null as never), TypeError, /runVcpus: bindings must be an array of \{ vcpu, state \}, got null/],
    ['no bindings', () => runVcpus([]), RangeError, /runVcpus needs at least one vCPU/],
    ['bindings[0] a vCPU, not { vcpu, state }', (r: Rig) => runVcpus([r.vcpu] as never), TypeError, /runVcpus: bindings\[0\].vcpu must be an object with run\(\)/],
    ['bindings[1] null', (r: Rig) => runVcpus([{ vcpu: r.vcpu, state: r.state }, null] as never), TypeError, /runVcpus: bindings\[1\] must be an object \{ vcpu, state \}, got null/],
    ['state without counters', (r: Rig) => runVcpus([{ vcpu: r.vcpu, state: { ...r.state, counters: undefined } }] as never), TypeError, /bindings\[0\].state.counters must be an object .*got undefined/],
    ['state.hartId a string', (r: Rig) => runVcpus([{ vcpu: r.vcpu, state: { ...r.state, hartId: '0' } }] as never), TypeError, /bindings\[0\].state.hartId must be a number, got '0'/],
    ['runVcpuUntilStop: vcpu null', (r: Rig) => runVcpuUntilStop(null as never, r.state), TypeError, /runVcpuUntilStop: vcpu must be an object with run\(\).*got null/],
    ['runVcpuUntilStop: state null', (r: Rig) => runVcpuUntilStop(r.vcpu, null as never), TypeError, /runVcpuUntilStop: state must be a MachineState object, got null/],
    ['runVcpuUntilStop: shouldStop true', (r: Rig) => runVcpuUntilStop(r.vcpu, r.state, true as never), TypeError, /runVcpuUntilStop: shouldStop must be a function, got true/],
  ] as const)('%s', async (_what, call, cls, message) => {
    const r = rig();
    expectClass(await rejection(() => call(r)), cls, message);
    await expectIntact(r);
  });
});

describe('dispatchExit and applyCompletion: a value that is not an exit or a completion', () => {
  it.each([
    ['exit null', null, TypeError, /dispatchExit: exit must be a VcpuExit object, got null/],
    ['exit a string', 'sbi', TypeError, /exit must be a VcpuExit object, got 'sbi'/],
    ["reason 'halt'", { reason: 'halt' }, RangeError, /dispatchExit: exit reason 'halt' is not a VcpuExit reason/],
    ['no reason', {}, RangeError, /exit reason undefined is not a VcpuExit reason/],
  ] as const)('dispatchExit(%s) throws and counts nothing', (_what, exit, cls, message) => {
    const r = rig();
    let e: Error | undefined;
    try { dispatchExit(exit as never, r.state); } catch (err) { e = err as Error; }
    expectClass(e!, cls, message);
    expect(r.state.counters).toEqual(newExitCounters());
    r.vm.close();
  });

  it.each([null, undefined, 7, { counters: null }])('dispatchExit with state %s is a TypeError', (state) => {
    let e: Error | undefined;
    try { dispatchExit({ reason: 'interrupted' }, state as never); } catch (err) { e = err as Error; }
    expectClass(e!, TypeError, /dispatchExit: state must be a MachineState/);
  });

  it.each([
    ['null', null, TypeError, /applyCompletion: completion must be an object, got null/],
    ["kind 'mmio'", { kind: 'mmio', value: 1n }, RangeError, /applyCompletion: completion kind 'mmio' is not sbi, mmio_load, mmio_store or csr/],
  ] as const)('applyCompletion(%s) throws instead of dropping the answer; the vCPU still runs', async (_what, c, cls, message) => {
    const r = rig();
    let e: Error | undefined;
    try { applyCompletion(r.vcpu, c as never); } catch (err) { e = err as Error; }
    expectClass(e!, cls, message);
    await expectIntact(r);
  });
});

describe('runBareMetal(options): every field checked before a VM is created', () => {
  /** An emulator whose createVm calls are counted. */
  function countingHv(): { hv: Hypervisor; vms: () => number } {
    const hv = createEmulator();
    let n = 0;
    const createVm = hv.createVm.bind(hv);
    hv.createVm = (o) => { n++; return createVm(o); };
    return { hv, vms: () => n };
  }
  const good = (hv: Hypervisor): BareMetalOptions => ({ hypervisor: hv, image: PROGRAM, memorySize: 16 << 20, output: { write() {} } });

  it.each([
    ['null', () => null, TypeError, /runBareMetal: options must be an object, got null/],
    ['no options', () => undefined, TypeError, /runBareMetal: options must be an object, got undefined/],
    ['hypervisor missing', (o: BareMetalOptions) => ({ ...o, hypervisor: undefined }), TypeError, /hypervisor must be an object with createVm\(\), got undefined/],
    ["hypervisor 'emulator'", (o: BareMetalOptions) => ({ ...o, hypervisor: 'emulator' }), TypeError, /hypervisor must be an object with createVm\(\), got 'emulator'/],
    ['vmOptions a string', (o: BareMetalOptions) => ({ ...o, vmOptions: 'sbiV01' }), TypeError, /vmOptions must be an object, got 'sbiV01'/],
    ['image missing', (o: BareMetalOptions) => ({ ...o, image: undefined }), TypeError, /runBareMetal: image must be a Uint8Array .*got undefined/],
    ['image a path', (o: BareMetalOptions) => ({ ...o, image: 'prog.bin' }), TypeError, /image must be a Uint8Array .*got 'prog.bin'/],
    ['image an ArrayBuffer', (o: BareMetalOptions) => ({ ...o, image: PROGRAM.buffer }), TypeError, /image must be a Uint8Array .*got an object \(ArrayBuffer\)/],
    ['image empty', (o: BareMetalOptions) => ({ ...o, image: new Uint8Array(0) }), RangeError, /runBareMetal: image is empty/],
    ['memorySize missing', (o: BareMetalOptions) => ({ ...o, memorySize: undefined }), TypeError, /memorySize must be a number of bytes, got undefined/],
    ["memorySize '4M'", (o: BareMetalOptions) => ({ ...o, memorySize: '4M' }), TypeError, /memorySize must be a number of bytes, got '4M'/],
    ['memorySize 0', (o: BareMetalOptions) => ({ ...o, memorySize: 0 }), RangeError, /memorySize must be a positive multiple of 4096, got 0/],
    ['memorySize 1000', (o: BareMetalOptions) => ({ ...o, memorySize: 1000 }), RangeError, /memorySize .*got 1000/],
    ['memorySize NaN', (o: BareMetalOptions) => ({ ...o, memorySize: NaN }), RangeError, /memorySize .*got NaN/],
    ['memorySize -4096', (o: BareMetalOptions) => ({ ...o, memorySize: -4096 }), RangeError, /memorySize .*got -4096/],
    ['memorySize Infinity', (o: BareMetalOptions) => ({ ...o, memorySize: Infinity }), RangeError, /memorySize .*got Infinity/],
    ['bootargs an array', (o: BareMetalOptions) => ({ ...o, bootargs: ['console=hvc0'] }), TypeError, /bootargs must be a string, got an array/],
    ['initrd a string', (o: BareMetalOptions) => ({ ...o, initrd: 'initrd.cpio' }), TypeError, /initrd must be a Uint8Array .*got 'initrd.cpio'/],
    ['initrd empty', (o: BareMetalOptions) => ({ ...o, initrd: new Uint8Array(0) }), RangeError, /runBareMetal: initrd is empty/],
    ['timeoutMs Infinity', (o: BareMetalOptions) => ({ ...o, timeoutMs: Infinity }), RangeError, /runBareMetal: timeoutMs Infinity is more than 2147483647/],
    ['timeoutMs 1e10', (o: BareMetalOptions) => ({ ...o, timeoutMs: 1e10 }), RangeError, /timeoutMs 10000000000 is more than 2147483647/],
    ['timeoutMs -1', (o: BareMetalOptions) => ({ ...o, timeoutMs: -1 }), RangeError, /timeoutMs -1 is not positive/],
    ['signal a string', (o: BareMetalOptions) => ({ ...o, signal: 'abort' }), TypeError, /signal must be an AbortSignal, got 'abort'/],
    ['output missing', (o: BareMetalOptions) => ({ ...o, output: undefined }), TypeError, /output must be an object with write\(\), got undefined/],
    ['output a function', (o: BareMetalOptions) => ({ ...o, output: () => {} }), TypeError, /output must be an object with write\(\), got a function/],
    ['input without read()', (o: BareMetalOptions) => ({ ...o, input: {} }), TypeError, /input must be an object with read\(\); its read is undefined/],
    ['sbiExtensions an object', (o: BareMetalOptions) => ({ ...o, sbiExtensions: {} }), TypeError, /sbiExtensions must be an array, got an object \(Object\)/],
    ['warn a string', (o: BareMetalOptions) => ({ ...o, warn: 'console' }), TypeError, /warn must be a function, got 'console'/],
    ['onReady true', (o: BareMetalOptions) => ({ ...o, onReady: true }), TypeError, /onReady must be a function, got true/],
  ] as const)('%s; no VM is created and the hypervisor still runs the program', async (_what, make, cls, message) => {
    const { hv, vms } = countingHv();
    const e = await rejection(() => runBareMetal(make(good(hv)) as never));
    expectClass(e, cls, message);
    expect(vms()).toBe(0);
    const res = await runBareMetal({ ...good(hv), timeoutMs: 20_000 });
    expect(res.result).toEqual({ kind: 'shutdown', reason: 0n });
    expect(res.unsupportedSbiCalls).toBe(1);
    expect(vms()).toBe(1);
    hv.close();
  });
});
