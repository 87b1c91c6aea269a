// Bad input to the KVM backend's TypeScript wrappers, which validate before the addon sees
// anything: here over the fake addon (kvm-fake-native.ts), so every case also checks that the
// native side was never called and that the handle works afterwards. What needs the real addon and
// /dev/kvm (the kernel's own refusals) is covered by test/kvm and the conformance suite in the rig.
// Also: the reasons openKvm()/openHypervisor() give when KVM cannot be used (no riscv64 host,
// missing addon, /dev/kvm missing or not accessible), through the loader's injectable host probe.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  KVM_API_VERSION, KVM_GET_REG_LIST, KVM_RUN, KVM_RUN_OFF, KVM_RUN_SIZE, KVM_SET_ONE_REG,
} from '../../lib/abi/kvm.js';
import { regId, REG_PC } from '../../lib/abi/regs.js';
import { KvmHypervisor } from '../../lib/backend/kvm/hypervisor.js';
import { isKvmAvailable, openKvm } from '../../lib/backend/kvm/index.js';
import { ADDON_RELATIVE_PATHS, kvmAvailability, type HostProbe } from '../../lib/backend/kvm/loader.js';
import { KvmVcpu } from '../../lib/backend/kvm/vcpu.js';
import { KvmDevice, KvmVm } from '../../lib/backend/kvm/vm.js';
import { KvmError, KvmStateError, KvmUnavailableError } from '../../lib/errors.js';
import { openHypervisor } from '../../lib/vmm/select-backend.js';
import { errnoError, FakeSystem, FakeVcpu, FakeVm } from './kvm-fake-native.js';
import { thrown } from '../support/thrown.js';

type ErrorClass = typeof TypeError | typeof RangeError | typeof KvmError | typeof KvmStateError | typeof KvmUnavailableError;


function expectError(fn: () => unknown, cls: ErrorClass, message: RegExp): Error {
  const e = thrown(fn);
  expect(e, `${e?.name}: ${e?.message}`).toBeInstanceOf(cls);
  expect(e.constructor).toBe(cls);
  expect(e.message).toMatch(message);
  return e;
}

/** Records every call made on a native object, to prove validation happened before any. */
function spy<T extends object>(target: T): { native: T; calls: string[] } {
  const calls: string[] = [];
  const native = new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { native, calls };
}

describe('KvmHypervisor and KvmVm: validated before the kernel', () => {
  it.each([
    ['checkExtension("1")', (hv: KvmHypervisor) => hv.checkExtension('1' as never), TypeError, /cap must be a number .*got string/],
    ['checkExtension(-1)', (hv: KvmHypervisor) => hv.checkExtension(-1), RangeError, /cap must be a u32, got -1/],
    ['createVm(null)', (hv: KvmHypervisor) => hv.createVm(null as never), TypeError, /options must be an object/],
  ] as const)('hypervisor %s', (_what, call, cls, message) => {
    const { native, calls } = spy(new FakeSystem());
    const hv = new KvmHypervisor(native);
    expectError(() => call(hv), cls, message);
    expect(calls).toEqual([]);
    expect(hv.createVm()).toBeInstanceOf(KvmVm);
  });

  const region = (over: Record<string, unknown>) => ({ slot: 1, guestPhysAddr: 0x9000_0000, size: 0x1000, ...over });
  it.each([
    ['no options', undefined, TypeError, /options must be an object/],
    ['slot as a string', region({ slot: '1' }), TypeError, /slot must be a number, got string/],
    ['slot -1', region({ slot: -1 }), RangeError, /slot must be an integer in \[0, 32\), got -1/],
    ['slot past KVM_CAP_NR_MEMSLOTS', region({ slot: 32 }), RangeError, /got 32/],
    ['address as a string', region({ guestPhysAddr: '0x90000000' }), TypeError, /guestPhysAddr must be a number or bigint, got string/],
    ['negative address', region({ guestPhysAddr: -1 }), RangeError, /guestPhysAddr must be a non-negative integer, got -1/],
    ['address past u64', region({ guestPhysAddr: 1n << 64n }), RangeError, /guestPhysAddr 18446744073709551616 is not a u64/],
    ['misaligned address', region({ guestPhysAddr: 0x9000_0800 }), RangeError, /guestPhysAddr 0x90000800 is not 4096-byte aligned/],
    ['size NaN', region({ size: NaN }), RangeError, /size must be a non-zero multiple of 4096, got NaN/],
    ['size as a bigint', region({ size: 4096n }), TypeError, /size must be a number, got bigint/],
    ['readonly as a string', region({ readonly: 'no' }), TypeError, /readonly must be a boolean, got string/],
    ['a range wrapping past 2^64', region({ guestPhysAddr: 0xffff_ffff_ffff_f000n, size: 0x2000 }), RangeError, /overflows/],
    ['an overlap', region({ guestPhysAddr: 0x8000_0000 }), RangeError, /overlaps slot 0 \[0x80000000, 0x80010000\)/],
    ['a slot in use', region({ slot: 0 }), RangeError, /slot 0 is already in use/],
  ] as const)('setMemoryRegion: %s', (_what, options, cls, message) => {
    const fake = new FakeVm();
    const { native, calls } = spy(fake);
    const vm = new KvmVm(native, 4096);
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 0x1_0000 });
    ram.write32(0x8000_0100, 0xfeed);
    calls.length = 0;
    expectError(() => vm.setMemoryRegion(options as never), cls, message);
    expect(calls).toEqual([]);
    expect([...fake.slots.keys()]).toEqual([0]);
    expect(vm.memoryRegions()).toEqual([ram]);
    expect(ram.read32(0x8000_0100)).toBe(0xfeed);
    vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x9000_0000, size: 0x1000 });
    expect([...fake.slots.keys()]).toEqual([0, 1]);
  });

  it.each([
    ['deleteMemoryRegion of an unused slot', (vm: KvmVm) => vm.deleteMemoryRegion(3), RangeError, /slot 3 is not in use/],
    ['getDirtyLog without logDirty', (vm: KvmVm) => vm.getDirtyLog(0), RangeError, /slot 0 was created without logDirty/],
    ['createVcpu("0")', (vm: KvmVm) => vm.createVcpu('0' as never), TypeError, /id must be a number, got string/],
    ['createVcpu(-1)', (vm: KvmVm) => vm.createVcpu(-1), RangeError, /vCPU id must be an integer in \[0, 4\), got -1/],
    ['createVcpu(4), past KVM_CAP_MAX_VCPUS', (vm: KvmVm) => vm.createVcpu(4), RangeError, /got 4/],
    ['createVcpu of an existing id', (vm: KvmVm) => vm.createVcpu(0), KvmError, /KVM_CREATE_VCPU \(vcpu 0\): File exists/],
    ['irqLine(1n, true)', (vm: KvmVm) => vm.irqLine(1n as never, true), TypeError, /irq must be a number, got bigint/],
    ['irqLine(2^32, true)', (vm: KvmVm) => vm.irqLine(2 ** 32, true), RangeError, /irq must be a u32, got 4294967296/],
    ['irqLine(1, "high")', (vm: KvmVm) => vm.irqLine(1, 'high' as never), TypeError, /level must be a boolean, got string/],
    ['createDevice("aia")', (vm: KvmVm) => vm.createDevice('aia' as never), TypeError, /type must be a number, got string/],
    ['hasDevice(-1)', (vm: KvmVm) => vm.hasDevice(-1), RangeError, /type must be a u32, got -1/],
  ] as const)('%s', (_what, call, cls, message) => {
    const fake = new FakeVm();
    const { native, calls } = spy(fake);
    const vm = new KvmVm(native, 4096);
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 0x1_0000 });
    vm.createVcpu(0);
    calls.length = 0;
    expectError(() => call(vm), cls, message);
    expect(calls).toEqual([]);
    expect(vm.vcpus.map((v) => v.id)).toEqual([0]);
    expect(vm.createVcpu(1).id).toBe(1);
  });

  it('a closed VM: every call throws KvmStateError ERR_KVM_CLOSED naming itself, without reaching the addon', () => {
    const fake = new FakeVm();
    const { native, calls } = spy(fake);
    const vm = new KvmVm(native, 4096);
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 0x1_0000, logDirty: true });
    vm.close();
    vm.close(); // idempotent
    calls.length = 0;
    for (const [what, call] of [
      ['setMemoryRegion', () => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x9000_0000, size: 0x1000 })],
      ['deleteMemoryRegion', () => vm.deleteMemoryRegion(0)],
      ['getDirtyLog', () => vm.getDirtyLog(0)],
      ['createVcpu', () => vm.createVcpu(0)],
      ['irqLine', () => vm.irqLine(1, true)],
      ['checkExtension', () => vm.checkExtension(0)],
      ['createDevice', () => vm.createDevice(1)],
    ] as const) {
      const e = expectError(call, KvmStateError, new RegExp(`^${what}: the VM is closed$`));
      expect((e as KvmStateError).code).toBe('ERR_KVM_CLOSED');
    }
    expect(calls).toEqual([]);
    // The one exception (kvm-vm.test.ts pins it): the list of regions of a closed VM is empty.
    expect(vm.memoryRegions()).toEqual([]);
  });

  it.each([
    ['has("0", 0)', (d: KvmDevice) => d.has('0' as never, 0), TypeError, /group must be a number, got string/],
    ['has(0, -1)', (d: KvmDevice) => d.has(0, -1), RangeError, /attr must be a non-negative integer, got -1/],
    ['set(0, 0, "x")', (d: KvmDevice) => d.set(0, 0, 'x' as never), TypeError, /value must be a number or bigint, got string/],
    ['set(0, 0, 2^64)', (d: KvmDevice) => d.set(0, 0, 1n << 64n), RangeError, /value 18446744073709551616 does not fit 64 bits/],
    ['set(0, 0, 0.5)', (d: KvmDevice) => d.set(0, 0, 0.5), RangeError, /value must be an integer, got 0\.5/],
  ] as const)('KvmDevice.%s', (_what, call, cls, message) => {
    const { native, calls } = spy(new FakeVm());
    const device = new KvmDevice(native, 7, () => false);
    expectError(() => call(device), cls, message);
    expect(calls).toEqual([]);
  });
});

describe('KvmVcpu: validated before the kernel', () => {
  const FCSR = regId('fp_d.fcsr'); // a U32 register
  function make() {
    const fake = new FakeVcpu(0);
    fake.regs.set(REG_PC, new Uint8Array(8));
    fake.regs.set(FCSR, new Uint8Array(4));
    const { native, calls } = spy(fake);
    const vcpu = new KvmVcpu(native, 0);
    vcpu.setReg(REG_PC, 0x8020_0000n);
    calls.length = 0;
    return { fake, vcpu, calls };
  }
  it.each([
    ['getReg(1)', (v: KvmVcpu) => v.getReg(1 as never), TypeError, /register id must be a bigint, got number/],
    ['getReg(-1n)', (v: KvmVcpu) => v.getReg(-1n), RangeError, /register id -1 is not a u64/],
    ['setReg(pc, 1)', (v: KvmVcpu) => v.setReg(REG_PC, 1 as never), TypeError, /value for core\.pc must be a bigint, got number/],
    ['setReg(pc, 2^64)', (v: KvmVcpu) => v.setReg(REG_PC, 1n << 64n), RangeError, /value for core\.pc 18446744073709551616 does not fit 64 bits/],
    ['setReg(fcsr, 2^32)', (v: KvmVcpu) => v.setReg(FCSR, 1n << 32n), RangeError, /value for fp_d\.fcsr 4294967296 does not fit 32 bits/],
    ['setSbiReturn("0")', (v: KvmVcpu) => v.setSbiReturn('0' as never), TypeError, /error must be a number or bigint, got string/],
    ['setSbiReturn(0, NaN)', (v: KvmVcpu) => v.setSbiReturn(0, NaN), RangeError, /value must be an integer, got NaN/],
    ['setMmioLoad(-2^64)', (v: KvmVcpu) => v.setMmioLoad(-(1n << 64n)), RangeError, /does not fit 64 bits/],
    ['setCsrReturn with no CSR exit', (v: KvmVcpu) => v.setCsrReturn(0), KvmStateError, /setCsrReturn: the last exit of vCPU 0 was none, not 'csr'/],
    ['setExternalInterrupt("1")', (v: KvmVcpu) => v.setExternalInterrupt('1' as never), TypeError, /level must be a boolean, got string/],
    ['setMpState("halted")', (v: KvmVcpu) => v.setMpState('halted' as never), RangeError, /state must be 'runnable' or 'stopped', got halted/],
    ['runPollMicros = "10"', (v: KvmVcpu) => { v.runPollMicros = '10' as never; }, TypeError, /runPollMicros must be a number of microseconds, got string/],
    ['runPollMicros = -1', (v: KvmVcpu) => { v.runPollMicros = -1; }, RangeError, /runPollMicros must be an integer from 0 to 1000000, got -1/],
    ['runPollMicros = 2e6', (v: KvmVcpu) => { v.runPollMicros = 2e6; }, RangeError, /got 2000000/],
  ] as const)('%s', (_what, call, cls, message) => {
    const { fake, vcpu, calls } = make();
    expectError(() => call(vcpu), cls, message);
    expect(calls).toEqual([]);
    expect(vcpu.state).toBe('idle');
    expect(vcpu.getReg(REG_PC)).toBe(0x8020_0000n);
    expect(fake.runPoll).toBe(0);
  });

  it('a register the kernel does not know: KvmError ENOENT naming the id, and the vCPU still runs', async () => {
    const { fake, vcpu } = make();
    const e = expectError(() => vcpu.getReg(regId('core.a0')), KvmError, /^KVM_GET_ONE_REG \(core\.a0\): No such file or directory$/);
    expect(e).toMatchObject({ code: 'ENOENT', errno: 2, syscall: 'ioctl' });
    fake.script.push(() => 4); // EINTR
    expect(await vcpu.run()).toEqual({ reason: 'interrupted' });
  });
});

// --- opening /dev/kvm --------------------------------------------------------------------------

const ROOT = '/pkg';
const ADDON_PATH = join(ROOT, ADDON_RELATIVE_PATHS[0]);

function goodAddon(openSystem: (path: string) => unknown = () => new FakeSystem()) {
  return {
    openSystem,
    abi: {
      KVM_API_VERSION, KVM_RUN, KVM_SET_ONE_REG, KVM_GET_REG_LIST, sizeofKvmRun: KVM_RUN_SIZE,
      exitUnionOffset: KVM_RUN_OFF.exit_union, sbiRetOffset: KVM_RUN_OFF.riscv_sbi_ret, csrRetOffset: KVM_RUN_OFF.riscv_csr_ret_value,
    },
    pageSize: 4096,
    arch: 'riscv64',
    kickSignal: () => 38,
  };
}

/** A riscv64 host with the addon in place whose /dev/kvm fails with `deviceError` (if given). */
function host(over: Partial<HostProbe> & { deviceError?: string; addon?: unknown } = {}): HostProbe {
  const addon = 'addon' in over ? over.addon : goodAddon();
  return {
    platform: 'linux',
    arch: 'riscv64',
    packageRoot: ROOT,
    exists: (p) => addon !== undefined && p === ADDON_PATH,
    loadAddon: () => addon,
    openDevice: (p) => {
      if (over.deviceError) throw Object.assign(new Error(`${over.deviceError}: open '${p}'`), { code: over.deviceError });
    },
    ...over,
  };
}

describe('openKvm: why KVM cannot be used', () => {
  it.each([
    ['/dev/kvm without permission (EACCES)', host({ deviceError: 'EACCES' }), /\/dev\/kvm is not accessible \(EACCES\): add your user to the kvm group/, '/dev/kvm: EACCES'],
    ['/dev/kvm forbidden by policy (EPERM)', host({ deviceError: 'EPERM' }), /\/dev\/kvm may not be opened \(EPERM\)/, '/dev/kvm: EPERM'],
    ['no /dev/kvm (ENOENT)', host({ deviceError: 'ENOENT' }), /\/dev\/kvm does not exist: load the kvm module/, '/dev/kvm: ENOENT'],
    ['kvm.ko without a hypervisor (ENODEV)', host({ deviceError: 'ENODEV' }), /no hypervisor is behind it \(ENODEV\)/, '/dev/kvm: ENODEV'],
    ['an x86_64 host', host({ platform: 'linux', arch: 'x64' }), /this is a linux-x64 host; the KVM backend needs linux-riscv64/, 'host linux-x64: KVM for RISC-V guests needs linux-riscv64'],
    ['no addon', host({ addon: undefined }), /the native addon kvm_riscv\.node is missing/, `${ADDON_PATH}: not found`],
  ])('%s → KvmUnavailableError with the reason and every check', (_what, probe, reason, tried) => {
    const e = expectError(() => openKvm('/dev/kvm', probe), KvmUnavailableError, reason) as KvmUnavailableError;
    expect(e.code).toBe('ERR_KVM_UNAVAILABLE');
    expect(e.reasons).toContain(tried);
    expect(e.message.split('\n')[0]).toMatch(/^KVM backend unavailable: /);
    // The same probe with a working device opens: the failure left nothing behind to trip over.
    expect(openKvm('/dev/kvm', host()).apiVersion()).toBe(12);
  });

  it('the device refusing the addon itself (a permission race) is a KvmError with errno and path', () => {
    const probe = host({ addon: goodAddon((p) => { throw errnoError(13, `open ${p}`, 'open'); }) });
    const e = expectError(() => openKvm('/dev/kvm', probe), KvmError, /^open \/dev\/kvm: Permission denied$/);
    expect(e).toMatchObject({ code: 'EACCES', errno: 13, syscall: 'open' });
  });

  it.each([
    ['openKvm(42)', () => openKvm(42 as never), TypeError, /path must be a string such as '\/dev\/kvm', got number/],
    ["openKvm('')", () => openKvm(''), RangeError, /path "" is not a device path/],
    ['kvmAvailability(null)', () => kvmAvailability(null as never), TypeError, /path must be a string .*got object/],
    ["isKvmAvailable('/dev/kvm\\0x')", () => isKvmAvailable('/dev/kvm\0x'), RangeError, /is not a device path/],
  ] as const)('%s: the path is checked first', (_what, call, cls, message) => {
    expectError(call, cls, message);
  });
});

describe('openHypervisor: the backend choice', () => {
  it("'qemu' is a RangeError listing the choices", async () => {
    await expect(openHypervisor({ backend: 'qemu' as never })).rejects.toThrow(/backend must be one of auto, kvm, emulator; got 'qemu'/);
    await expect(openHypervisor({ backend: 'qemu' as never })).rejects.toBeInstanceOf(RangeError);
  });

  it.skipIf(process.platform === 'linux' && process.arch === 'riscv64')("'kvm' on a host without RISC-V KVM says why, and 'auto' falls back to the emulator", async () => {
    const e = await openHypervisor({ backend: 'kvm' }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(KvmUnavailableError);
    expect((e as Error).message).toContain(`${process.platform}-${process.arch}`);
    const hv = await openHypervisor({ backend: 'auto' });
    expect(hv.backend).toBe('emulator');
    hv.close();
  });
});
