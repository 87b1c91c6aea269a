// Bad arguments to the backend-neutral API (lib/backend/types.ts) on the emulator backend: every
// entry point, every argument, the error class the API documents (TypeError for a wrong type,
// RangeError out of range, KvmError where KVM itself refuses, KvmStateError for a closed or busy
// handle), a message naming the argument and the bad value, and "loses nothing": after the error
// the VM, its memory and the vCPU are exactly as before and still run a guest to its SRST shutdown.
import { describe, expect, it } from 'vitest';
import { regId, REG_PC } from '../../lib/abi/regs.js';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import { EMULATOR_MAX_MEMSLOTS, EMULATOR_MAX_VCPUS } from '../../lib/backend/emulator/capabilities.js';
import { MAX_SLOT_BYTES } from '../../lib/backend/emulator/vm.js';
import type { GuestMemory, Hypervisor, Vcpu, Vm } from '../../lib/backend/types.js';
import { KvmError, KvmStateError } from '../../lib/errors.js';
import { thrown } from '../support/thrown.js';

const RAM = 0x8000_0000;
const RAM_SIZE = 0x10_0000;
const MARK = 0x8000_8000n;

type ErrorClass = typeof TypeError | typeof RangeError | typeof KvmError | typeof KvmStateError;


function expectError(fn: () => unknown, cls: ErrorClass, message: RegExp, code?: string): Error {
  const e = thrown(fn);
  expect(e, `${e?.name}: ${e?.message}`).toBeInstanceOf(cls);
  // A subclass must not pass for its base: a KvmError is not what a RangeError case expects.
  expect(e.constructor).toBe(cls);
  expect(e.message).toMatch(message);
  if (code !== undefined) expect((e as { code?: string }).code).toBe(code);
  return e;
}

// --- a guest: one experimental-range SBI call (forwarded to user space), then SRST shutdown -----
const lui = (rd: number, imm20: number): number => ((imm20 << 12) | (rd << 7) | 0x37) >>> 0;
const addi = (rd: number, rs1: number, imm: number): number => (((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13) >>> 0;
const ECALL = 0x0000_0073;
const A0 = 10, A1 = 11, A6 = 16, A7 = 17;
const PROGRAM = Uint32Array.from([
  lui(A7, 0x08000), ECALL, // a7 = 0x08000000 (experimental range, forwarded: SBI v2.0 §3)
  lui(A7, 0x53525), addi(A7, A7, 0x354), // a7 = 0x53525354 "SRST" (SBI v2.0 §10)
  addi(A6, 0, 0), addi(A0, 0, 0), addi(A1, 0, 0), ECALL, // system_reset(shutdown, no reason)
]);

interface Rig { hv: Hypervisor; vm: Vm; ram: GuestMemory; vcpu: Vcpu }

function rig(): Rig {
  const hv = createEmulator();
  const vm = hv.createVm();
  const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM, size: RAM_SIZE });
  ram.writeBytes(RAM, new Uint8Array(PROGRAM.buffer));
  ram.write64(MARK, 0x1122_3344_5566_7788n);
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(REG_PC, BigInt(RAM));
  return { hv, vm, ram, vcpu };
}

/** The rig as it was built: one slot, one vCPU, the marker, pc at the program. Then the guest runs
 * to its end through one user-space SBI exit, so the VM and vCPU demonstrably still work. */
async function expectIntact(r: Rig): Promise<void> {
  expect(r.vm.closed).toBe(false);
  expect(r.vm.memoryRegions().map((m) => [m.slot, m.guestPhysAddr, m.size])).toEqual([[0, BigInt(RAM), RAM_SIZE]]);
  expect(r.vm.vcpus.map((v) => v.id)).toEqual([0]);
  expect(r.ram.read64(MARK)).toBe(0x1122_3344_5566_7788n);
  expect(r.vcpu.state).toBe('idle');
  expect(r.vcpu.getReg(REG_PC)).toBe(BigInt(RAM));
  const first = await r.vcpu.run();
  expect(first).toMatchObject({ reason: 'sbi', extensionId: 0x0800_0000 });
  r.vcpu.setSbiReturn(0, 0);
  expect(await r.vcpu.run()).toMatchObject({ reason: 'system_event', type: 'shutdown' });
  r.vm.close();
  r.hv.close();
}

describe('Hypervisor (createEmulator, createVm, checkExtension)', () => {
  it.each([
    ['createEmulator(null)', () => createEmulator(null as never), TypeError, /options must be an object/],
    ['createEmulator({ time: "fast" })', () => createEmulator({ time: 'fast' as never }), RangeError, /time must be 'deterministic' or 'realtime', got fast/],
  ] as const)('%s', (_what, call, cls, message) => {
    expectError(call, cls, message);
  });

  it.each([
    ['createVm(null)', (hv: Hypervisor) => hv.createVm(null as never), TypeError, /options must be an object/],
    ['createVm("x")', (hv: Hypervisor) => hv.createVm('x' as never), TypeError, /options must be an object/],
    ['createVm({ sbiV01: "yes" })', (hv: Hypervisor) => hv.createVm({ sbiV01: 'yes' as never }), TypeError, /sbiV01 must be a boolean, got string/],
    ['checkExtension("1")', (hv: Hypervisor) => hv.checkExtension('1' as never), TypeError, /cap must be a number .*got string/],
    ['checkExtension(1n)', (hv: Hypervisor) => hv.checkExtension(1n as never), TypeError, /cap must be a number .*got bigint/],
    ['checkExtension(-1)', (hv: Hypervisor) => hv.checkExtension(-1), RangeError, /cap must be a u32, got -1/],
    ['checkExtension(NaN)', (hv: Hypervisor) => hv.checkExtension(NaN), RangeError, /cap must be a u32, got NaN/],
    ['checkExtension(2^32)', (hv: Hypervisor) => hv.checkExtension(2 ** 32), RangeError, /got 4294967296/],
  ] as const)('%s; the handle still makes working VMs', async (_what, call, cls, message) => {
    const r = rig();
    expectError(() => call(r.hv), cls, message);
    expect(r.hv.apiVersion()).toBe(12);
    await expectIntact(r);
  });

  it('a closed handle: KvmStateError ERR_KVM_CLOSED naming the call; its VMs keep working', async () => {
    const r = rig();
    r.hv.close();
    expectError(() => r.hv.createVm(), KvmStateError, /createVm: the hypervisor handle is closed/, 'ERR_KVM_CLOSED');
    expectError(() => r.hv.checkExtension(0), KvmStateError, /checkExtension/, 'ERR_KVM_CLOSED');
    await expectIntact(r);
  });
});

describe('Vm.setMemoryRegion and the other slot calls', () => {
  const region = (over: Record<string, unknown>) => ({ slot: 1, guestPhysAddr: 0x9000_0000, size: 0x1000, ...over });
  it.each([
    ['no options', undefined, TypeError, /options must be an object/],
    ['null options', null, TypeError, /options must be an object/],
    ['slot missing', { guestPhysAddr: 0x9000_0000, size: 0x1000 }, TypeError, /slot must be a number, got undefined/],
    ['slot as a string', region({ slot: '1' }), TypeError, /slot must be a number, got string/],
    ['slot as a bigint', region({ slot: 1n }), TypeError, /slot must be a number, got bigint/],
    ['slot -1', region({ slot: -1 }), RangeError, /slot must be an integer in \[0, \d+\), got -1/],
    ['slot 1.5', region({ slot: 1.5 }), RangeError, /slot .*got 1\.5/],
    ['slot NaN', region({ slot: NaN }), RangeError, /slot .*got NaN/],
    ['slot past KVM_CAP_NR_MEMSLOTS', region({ slot: EMULATOR_MAX_MEMSLOTS }), RangeError, new RegExp(`slot .*got ${EMULATOR_MAX_MEMSLOTS}`)],
    ['address as a string', region({ guestPhysAddr: '0x90000000' }), TypeError, /guestPhysAddr must be a number or bigint, got string/],
    ['negative address', region({ guestPhysAddr: -4096 }), RangeError, /guestPhysAddr .*-4096/],
    ['NaN address', region({ guestPhysAddr: NaN }), RangeError, /guestPhysAddr .*NaN/],
    ['address past u64', region({ guestPhysAddr: 1n << 64n }), RangeError, /guestPhysAddr .*18446744073709551616/],
    ['misaligned address', region({ guestPhysAddr: 0x9000_0001 }), RangeError, /guestPhysAddr 0x90000001 is not 4096-byte aligned/],
    ['size 0', region({ size: 0 }), RangeError, /size must be a non-zero multiple of 4096, got 0/],
    ['negative size', region({ size: -4096 }), RangeError, /size .*got -4096/],
    ['size not a page multiple', region({ size: 100 }), RangeError, /size .*got 100/],
    ['size NaN', region({ size: NaN }), RangeError, /size .*got NaN/],
    ['size Infinity', region({ size: Infinity }), RangeError, /size .*got Infinity/],
    ['size as a bigint', region({ size: 4096n }), TypeError, /size must be a number, got bigint/],
    ['readonly as a string', region({ readonly: 'yes' }), TypeError, /readonly must be a boolean, got string/],
    ['logDirty as a number', region({ logDirty: 1 }), TypeError, /logDirty must be a boolean, got number/],
    ['a range wrapping past 2^64', region({ guestPhysAddr: 0xffff_ffff_ffff_f000n, size: 0x2000 }), RangeError, /region 0xfffffffffffff000 \+ 8192 overflows/],
    ['an overlap with slot 0', region({ guestPhysAddr: RAM + RAM_SIZE - 0x1000, size: 0x2000 }), RangeError, /region \[0x800ff000, 0x80101000\) overlaps slot 0 \[0x80000000, 0x80100000\)/],
    ['slot 0 again', region({ slot: 0 }), RangeError, /slot 0 is already in use/],
    ['beyond the G-stage address space', region({ guestPhysAddr: 1n << 55n }), KvmError, /KVM_SET_USER_MEMORY_REGION \(slot 1 ends beyond the 50-bit/],
  ] as const)('%s', async (_what, options, cls, message) => {
    const r = rig();
    expectError(() => r.vm.setMemoryRegion(options as never), cls, message);
    await expectIntact(r);
  });

  // Node 20's V8 caps a typed array at 4 GiB; a Node whose cap is far larger has no such case.
  it.skipIf(MAX_SLOT_BYTES > 2 ** 34)('a slot larger than the emulator can back: KvmError ENOMEM naming the size, before allocating', async () => {
    const r = rig();
    const size = MAX_SLOT_BYTES + 0x1000;
    const e = expectError(() => r.vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x1_0000_0000, size }), KvmError,
      new RegExp(`^KVM_SET_USER_MEMORY_REGION \\(slot 1: ${size} bytes is more than the emulator's largest slot, ${MAX_SLOT_BYTES} bytes\\): Cannot allocate memory$`));
    expect(e).toMatchObject({ code: 'ENOMEM', syscall: 'mmap' });
    await expectIntact(r);
  });

  it.each([
    ['deleteMemoryRegion of an unused slot', (vm: Vm) => vm.deleteMemoryRegion(5), RangeError, /slot 5 is not in use/],
    ['deleteMemoryRegion("0")', (vm: Vm) => vm.deleteMemoryRegion('0' as never), TypeError, /slot must be a number, got string/],
    ['deleteMemoryRegion(-1)', (vm: Vm) => vm.deleteMemoryRegion(-1), RangeError, /got -1/],
    ['getDirtyLog of a slot without logDirty', (vm: Vm) => vm.getDirtyLog(0), RangeError, /slot 0 was created without logDirty/],
    ['getDirtyLog of an unused slot', (vm: Vm) => vm.getDirtyLog(7), RangeError, /slot 7 is not in use/],
    ['getDirtyLog()', (vm: Vm) => vm.getDirtyLog(undefined as never), TypeError, /slot must be a number, got undefined/],
    ['createVcpu(-1)', (vm: Vm) => vm.createVcpu(-1), RangeError, /vCPU id must be an integer in \[0, \d+\), got -1/],
    ['createVcpu(1.5)', (vm: Vm) => vm.createVcpu(1.5), RangeError, /got 1\.5/],
    ['createVcpu(NaN)', (vm: Vm) => vm.createVcpu(NaN), RangeError, /got NaN/],
    ['createVcpu(max)', (vm: Vm) => vm.createVcpu(EMULATOR_MAX_VCPUS), RangeError, new RegExp(`got ${EMULATOR_MAX_VCPUS}`)],
    ['createVcpu("1")', (vm: Vm) => vm.createVcpu('1' as never), TypeError, /id must be a number, got string/],
    ['createVcpu(1n)', (vm: Vm) => vm.createVcpu(1n as never), TypeError, /id must be a number, got bigint/],
    ['createVcpu of an existing id', (vm: Vm) => vm.createVcpu(0), KvmError, /KVM_CREATE_VCPU \(vcpu 0 exists\): File exists/],
    ['irqLine("a", true)', (vm: Vm) => vm.irqLine('a' as never, true), TypeError, /irq must be a number, got string/],
    ['irqLine(-1, true)', (vm: Vm) => vm.irqLine(-1, true), RangeError, /irq must be a u32, got -1/],
    ['irqLine(1, 1)', (vm: Vm) => vm.irqLine(1, 1 as never), TypeError, /level must be a boolean, got number/],
    ['irqLine without an in-kernel irqchip', (vm: Vm) => vm.irqLine(1, true), KvmError, /KVM_IRQ_LINE \(irq 1: no in-kernel irqchip\)/],
    ['checkExtension("x")', (vm: Vm) => vm.checkExtension('x' as never), TypeError, /cap must be a number/],
  ] as const)('%s', async (_what, call, cls, message) => {
    const r = rig();
    expectError(() => call(r.vm), cls, message);
    await expectIntact(r);
  });

  it('KvmError carries the errno of the refusal (EEXIST for a duplicate vCPU, ENXIO for irqLine)', () => {
    const r = rig();
    expect(thrown(() => r.vm.createVcpu(0))).toMatchObject({ code: 'EEXIST', errno: 17, syscall: 'ioctl' });
    expect(thrown(() => r.vm.irqLine(1, true))).toMatchObject({ code: 'ENXIO', errno: 6 });
    r.vm.close();
  });

  it('a closed VM: KvmStateError ERR_KVM_CLOSED naming the call', () => {
    const r = rig();
    r.vm.close();
    for (const [what, call] of [
      ['setMemoryRegion', () => r.vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x9000_0000, size: 0x1000 })],
      ['deleteMemoryRegion', () => r.vm.deleteMemoryRegion(0)],
      ['createVcpu', () => r.vm.createVcpu(1)],
      ['irqLine', () => r.vm.irqLine(1, true)],
      ['checkExtension', () => r.vm.checkExtension(0)],
    ] as const) {
      expectError(call, KvmStateError, new RegExp(`${what}: the VM is closed`), 'ERR_KVM_CLOSED');
    }
    expectError(() => r.ram.read8(RAM), KvmStateError, /memory slot 0 was deleted or its VM closed/, 'ERR_KVM_CLOSED');
  });
});

describe('Vcpu registers and completions', () => {
  const U128_CORE_PC = (REG_PC & ~0x00f0_0000_0000_0000n) | 0x0040_0000_0000_0000n;
  it.each([
    ['getReg(1) (a number id)', (v: Vcpu) => v.getReg(1 as never), TypeError, /id must be a bigint register id, got number/],
    ['getReg("core.pc") (a name)', (v: Vcpu) => v.getReg('core.pc' as never), TypeError, /got string/],
    ['getReg(-1n)', (v: Vcpu) => v.getReg(-1n), RangeError, /id must be a u64, got -1/],
    ['getReg(2^64)', (v: Vcpu) => v.getReg(1n << 64n), RangeError, /got 18446744073709551616/],
    ['getReg of an id KVM does not have', (v: Vcpu) => v.getReg(0n), KvmError, /^KVM_GET_ONE_REG \(0x0\): No such file or directory$/],
    ['getReg of core index 0xff00', (v: Vcpu) => v.getReg(REG_PC | 0xff00n), KvmError, /KVM_GET_ONE_REG \(0x803000000200ff00\)/],
    ['setReg(pc, 1) (a number value)', (v: Vcpu) => v.setReg(REG_PC, 1 as never), TypeError, /value must be a bigint, got number/],
    ['setReg(pc, 2^64)', (v: Vcpu) => v.setReg(REG_PC, 1n << 64n), RangeError, /value 18446744073709551616 does not fit the 64-bit register core\.pc/],
    ['setReg(pc, -2^63 - 1)', (v: Vcpu) => v.setReg(REG_PC, -(1n << 63n) - 1n), RangeError, /does not fit the 64-bit register core\.pc/],
    ['setReg(fp_f.f0, 2^32)', (v: Vcpu) => v.setReg(regId('fp_f.f0'), 1n << 32n), RangeError, /value 4294967296 does not fit the 32-bit register fp_f\.f0/],
    ['setReg(timer.frequency, 1)', (v: Vcpu) => v.setReg(regId('timer.frequency'), 1n), KvmError, /^KVM_SET_ONE_REG \(timer\.frequency\): Invalid argument$/],
    ['setReg of an unknown core index', (v: Vcpu) => v.setReg(REG_PC | 0xfffn, 1n), KvmError, /KVM_SET_ONE_REG \(0x8030000002000fff\): No such file or directory/],
    ['setReg with a u128 size field', (v: Vcpu) => v.setReg(U128_CORE_PC, 1n), KvmError, /KVM_SET_ONE_REG \(0x8040000002000000\): Invalid argument/],
    ['setSbiReturn("x")', (v: Vcpu) => v.setSbiReturn('x' as never), TypeError, /error must be a number or bigint, got string/],
    ['setSbiReturn(NaN)', (v: Vcpu) => v.setSbiReturn(NaN), RangeError, /error must be an integer, got NaN/],
    ['setSbiReturn(0, 2^64)', (v: Vcpu) => v.setSbiReturn(0, 1n << 64n), RangeError, /value 18446744073709551616 does not fit 64 bits/],
    ['setSbiReturn with no SBI exit', (v: Vcpu) => v.setSbiReturn(0), KvmStateError, /setSbiReturn: vcpu 0 has no SBI exit to complete/],
    ['setMmioLoad(1.5)', (v: Vcpu) => v.setMmioLoad(1.5), RangeError, /value must be an integer, got 1\.5/],
    ['setCsrReturn(undefined)', (v: Vcpu) => v.setCsrReturn(undefined as never), TypeError, /value must be a number or bigint, got undefined/],
    ['setExternalInterrupt(1)', (v: Vcpu) => v.setExternalInterrupt(1 as never), TypeError, /level must be a boolean, got number/],
    ['setMpState("on")', (v: Vcpu) => v.setMpState('on' as never), RangeError, /state must be 'runnable' or 'stopped', got on/],
  ] as const)('%s; the vCPU keeps its registers and runs', async (_what, call, cls, message) => {
    const r = rig();
    expectError(() => call(r.vcpu), cls, message);
    await expectIntact(r);
  });

  it('regId names an unknown register name', () => {
    expectError(() => regId('core.xyz'), RangeError, /unknown register name 'core\.xyz'/);
  });

  it('a config register after the first run: KvmError EBUSY naming it; the run continues', async () => {
    const r = rig();
    expect(await r.vcpu.run()).toMatchObject({ reason: 'sbi' });
    const e = expectError(() => r.vcpu.setReg(regId('sbi_ext.DBCN'), 1n), KvmError, /^KVM_SET_ONE_REG \(sbi_ext\.DBCN\): Device or resource busy$/);
    expect(e).toMatchObject({ code: 'EBUSY', errno: 16 });
    expect(r.vcpu.getReg(regId('sbi_ext.DBCN'))).toBe(0n);
    r.vcpu.setSbiReturn(0, 0);
    expect(await r.vcpu.run()).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    r.vm.close();
  });

  it('a closed vCPU: KvmStateError ERR_KVM_CLOSED naming it; the VM runs the guest on another vCPU', async () => {
    const r = rig();
    r.vcpu.close();
    for (const [what, call] of [
      ['getReg', () => r.vcpu.getReg(REG_PC)],
      ['setReg', () => r.vcpu.setReg(REG_PC, 0n)],
      ['getRegList', () => r.vcpu.getRegList()],
      ['runSync', () => r.vcpu.runSync()],
      ['setSbiReturn', () => r.vcpu.setSbiReturn(0)],
      ['setMpState', () => r.vcpu.setMpState('runnable')],
      ['setExternalInterrupt', () => r.vcpu.setExternalInterrupt(true)],
    ] as const) {
      expectError(call, KvmStateError, new RegExp(`^${what}: vcpu 0 is closed$`), 'ERR_KVM_CLOSED');
    }
    await expect(r.vcpu.run()).rejects.toMatchObject({ code: 'ERR_KVM_CLOSED' });
    const other = r.vm.createVcpu(1);
    other.setReg(REG_PC, BigInt(RAM));
    other.setMpState('runnable');
    expect(await other.run()).toMatchObject({ reason: 'sbi', extensionId: 0x0800_0000 });
    other.setSbiReturn(0, 0);
    expect(await other.run()).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    r.vm.close();
  });

  it('a second run() while one is pending: ERR_KVM_BUSY, and the first run still ends normally', async () => {
    const r = rig();
    const first = r.vcpu.run();
    await expect(r.vcpu.run()).rejects.toMatchObject({ name: 'KvmStateError', code: 'ERR_KVM_BUSY', message: /run: vcpu 0 is running/ });
    expectError(() => r.vcpu.setReg(REG_PC, 0n), KvmStateError, /setReg: vcpu 0 is running/, 'ERR_KVM_BUSY');
    expect(await first).toMatchObject({ reason: 'sbi' });
    r.vcpu.setSbiReturn(0, 0);
    expect(await r.vcpu.run()).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    r.vm.close();
  });
});

describe('GuestMemory accessors', () => {
  const END = RAM + RAM_SIZE;
  it.each([
    ['read8 below the slot', (m: GuestMemory) => m.read8(0), RangeError, /guest address 0x0 \(\+1\) is outside slot 0 \[0x80000000, 0x80100000\)/],
    ['read8(-1)', (m: GuestMemory) => m.read8(-1), RangeError, /guest address must be a non-negative integer, got -1/],
    ['read8(NaN)', (m: GuestMemory) => m.read8(NaN), RangeError, /got NaN/],
    ['read8("0x80000000")', (m: GuestMemory) => m.read8('0x80000000' as never), TypeError, /guest address must be a number or bigint, got string/],
    ['read32 straddling the end', (m: GuestMemory) => m.read32(END - 2), RangeError, /guest address 0x800ffffe \(\+4\) is outside slot 0/],
    ['read64(2^64)', (m: GuestMemory) => m.read64(1n << 64n), RangeError, /got 18446744073709551616/],
    ['write8 of 256', (m: GuestMemory) => m.write8(RAM, 256), RangeError, /value 256 does not fit 8 bits/],
    ['write8 of a bigint', (m: GuestMemory) => m.write8(RAM, 1n as never), TypeError, /value must be a number, got bigint/],
    ['write32 of 1.5', (m: GuestMemory) => m.write32(RAM, 1.5), RangeError, /value 1\.5 does not fit 32 bits/],
    ['write64 of a number', (m: GuestMemory) => m.write64(RAM, 1 as never), TypeError, /value must be a bigint, got number/],
    ['write64 of 2^64', (m: GuestMemory) => m.write64(RAM, 1n << 64n), RangeError, /does not fit 64 bits/],
    ['write32 straddling the end', (m: GuestMemory) => m.write32(END - 2, 0x5a5a5a5a), RangeError, /0x800ffffe \(\+4\) is outside slot 0/],
    ['readBytes(-1 bytes)', (m: GuestMemory) => m.readBytes(RAM, -1), RangeError, /length must be a non-negative integer, got -1/],
    ['readBytes past the end', (m: GuestMemory) => m.readBytes(RAM, RAM_SIZE + 1), RangeError, /\(\+1048577\) is outside slot 0/],
    ['writeBytes of an array', (m: GuestMemory) => m.writeBytes(RAM, [1, 2] as never), TypeError, /data must be a Uint8Array/],
    ['writeBytes straddling the end', (m: GuestMemory) => m.writeBytes(END - 2, new Uint8Array(4).fill(0x5a)), RangeError, /is outside slot 0/],
    ['fill with 300', (m: GuestMemory) => m.fill(RAM, 4, 300), RangeError, /fill value must be a byte \(0\.\.255\), got 300/],
    ['fill straddling the end', (m: GuestMemory) => m.fill(END - 2, 4, 0x5a), RangeError, /is outside slot 0/],
  ] as const)('%s; nothing is written', async (_what, call, cls, message) => {
    const r = rig();
    const before = r.ram.readBytes(RAM, RAM_SIZE);
    expectError(() => call(r.ram), cls, message);
    // Not even the in-range part of a straddling write: the slot is byte for byte as it was.
    expect(Buffer.compare(r.ram.readBytes(RAM, RAM_SIZE), before)).toBe(0);
    await expectIntact(r);
  });

  it('a deleted slot: KvmStateError naming the slot; the other slots and the VM live on', async () => {
    const r = rig();
    const extra = r.vm.setMemoryRegion({ slot: 3, guestPhysAddr: 0x9000_0000, size: 0x1000 });
    r.vm.deleteMemoryRegion(3);
    expect(extra.closed).toBe(true);
    expectError(() => extra.read8(0x9000_0000), KvmStateError, /memory slot 3 was deleted/, 'ERR_KVM_CLOSED');
    await expectIntact(r);
  });
});
