import { describe, expect, it } from 'vitest';
import { KVM_CAP_IRQCHIP } from '../../lib/abi/kvm.js';
import { KvmHypervisor } from '../../lib/backend/kvm/hypervisor.js';
import { KvmVm } from '../../lib/backend/kvm/vm.js';
import { KvmError, KvmStateError } from '../../lib/errors.js';
import { FakeSystem, FakeVm } from './kvm-fake-native.js';

function make() {
  const native = new FakeVm();
  return { native, vm: new KvmVm(native, 4096) };
}

function stateCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof KvmStateError) return e.code;
    throw e;
  }
  return undefined;
}

describe('KvmVm memory regions', () => {
  it('passes flags, address and size to the native side and wraps the buffer', () => {
    const { native, vm } = make();
    const m = vm.setMemoryRegion({ slot: 2, guestPhysAddr: 0x8000_0000, size: 0x4000, readonly: true, logDirty: true });
    expect(native.calls).toEqual([`set 2 3 ${0x8000_0000n} ${0x4000}`]);
    expect(m.guestPhysAddr).toBe(0x8000_0000n);
    expect(m.readonly).toBe(true);
    m.write32(0x8000_3ffc, 7);
    expect(m.read32(0x8000_3ffcn)).toBe(7);
    expect(vm.memoryRegions()).toEqual([m]);
    expect(vm.capabilities).toMatchObject({ readonlyMemory: true, irqchip: false, maxVcpus: 4, maxMemorySlots: 32 });
  });

  it('rejects misaligned, empty, overflowing, overlapping and reused regions before the kernel', () => {
    const { native, vm } = make();
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x1000_0000n, size: 0x10000 });
    const bad: Array<[object, RegExp]> = [
      [{ slot: 1, guestPhysAddr: 0x1234, size: 0x1000 }, /aligned/],
      [{ slot: 1, guestPhysAddr: 0, size: 0 }, /size/],
      [{ slot: 1, guestPhysAddr: 0, size: 0x1001 }, /size/],
      [{ slot: 1, guestPhysAddr: 0xffff_ffff_ffff_f000n, size: 0x2000 }, /overflows/],
      [{ slot: 1, guestPhysAddr: 0x1000_f000, size: 0x2000 }, /overlaps slot 0/],
      [{ slot: 1, guestPhysAddr: 0x0fff_f000, size: 0x2000 }, /overlaps slot 0/],
      [{ slot: 0, guestPhysAddr: 0x2000_0000, size: 0x1000 }, /already in use/],
      [{ slot: 32, guestPhysAddr: 0x2000_0000, size: 0x1000 }, /slot/],
      [{ slot: -1, guestPhysAddr: 0x2000_0000, size: 0x1000 }, /slot/],
      [{ slot: 1, guestPhysAddr: -4096, size: 0x1000 }, /guestPhysAddr/],
    ];
    for (const [opts, msg] of bad) {
      expect(() => vm.setMemoryRegion(opts as never), JSON.stringify(opts, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toThrow(RangeError);
      expect(() => vm.setMemoryRegion(opts as never)).toThrow(msg);
    }
    expect(() => vm.setMemoryRegion({ slot: '1', guestPhysAddr: 0, size: 4096 } as never)).toThrow(TypeError);
    expect(() => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0, size: 4096, readonly: 1 } as never)).toThrow(TypeError);
    expect(() => vm.setMemoryRegion(null as never)).toThrow(TypeError);
    // Adjacent regions are fine.
    vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x1001_0000, size: 0x1000 });
    expect(native.calls.filter((c) => c.startsWith('set')).length).toBe(2);
  });

  it('deletes a slot (kernel first), invalidates its memory and allows reuse', () => {
    const { native, vm } = make();
    const m = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0x1000 });
    vm.deleteMemoryRegion(0);
    expect(native.calls.at(-1)).toBe('delete 0');
    expect(m.closed).toBe(true);
    expect(stateCode(() => m.read8(0))).toBe('ERR_KVM_CLOSED');
    expect(() => vm.deleteMemoryRegion(0)).toThrow(/not in use/);
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0x1000 });
  });

  it('returns one dirty bit per 4 KiB page and needs logDirty', () => {
    const { native, vm } = make();
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0x1000 * 20, logDirty: true });
    vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x100000, size: 0x1000 });
    native.dirtyPattern = 0xa5;
    const log = vm.getDirtyLog(0);
    expect(log.length).toBe(3); // 20 pages → 3 bytes
    expect([...log]).toEqual([0xa5, 0xa5, 0xa5]);
    expect(() => vm.getDirtyLog(1)).toThrow(/logDirty/);
    expect(() => vm.getDirtyLog(5)).toThrow(/not in use/);
  });
});

describe('KvmVm vCPUs, irq line and close', () => {
  it('creates vCPUs with unique ids below the maximum', () => {
    const { vm } = make();
    const v0 = vm.createVcpu(0);
    expect(vm.vcpus).toEqual([v0]);
    expect(() => vm.createVcpu(0)).toThrow(KvmError);
    expect(() => vm.createVcpu(0)).toThrow('KVM_CREATE_VCPU (vcpu 0): File exists');
    expect(() => vm.createVcpu(4)).toThrow(RangeError);
    expect(() => vm.createVcpu(1.5)).toThrow(RangeError);
    expect(() => vm.createVcpu('1' as never)).toThrow(TypeError);
    v0.close();
    expect(vm.vcpus).toEqual([]);
  });

  it('irqLine: ENXIO without an in-kernel irqchip, passes through with one', () => {
    const { native, vm } = make();
    try {
      vm.irqLine(5, true);
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmError);
      expect((e as KvmError).code).toBe('ENXIO');
      expect((e as KvmError).message).toMatch(/^KVM_IRQ_LINE \(irq 5\): /);
    }
    native.caps.set(KVM_CAP_IRQCHIP, 1);
    const vm2 = new KvmVm(native);
    expect(vm2.capabilities.irqchip).toBe(true);
    vm2.irqLine(5, false);
    expect(native.calls.at(-1)).toBe('irq 5 false');
    expect(() => vm2.irqLine(-1, true)).toThrow(RangeError);
    expect(() => vm2.irqLine(1, 1 as never)).toThrow(TypeError);
  });

  it('close() closes vCPUs and the native VM, invalidates memory, and is idempotent', async () => {
    const { native, vm } = make();
    const m = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0x1000 });
    const v = vm.createVcpu(0);
    const pending = v.run();
    vm.close();
    vm.close();
    expect(vm.closed).toBe(true);
    expect(native.calls.filter((c) => c === 'close').length).toBe(1);
    expect(v.state).toBe('closed');
    expect(await pending).toEqual({ reason: 'interrupted' });
    expect(m.closed).toBe(true);
    expect(vm.memoryRegions()).toEqual([]);
    for (const op of [
      () => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0, size: 4096 }),
      () => vm.deleteMemoryRegion(0),
      () => vm.getDirtyLog(0),
      () => vm.createVcpu(1),
      () => vm.irqLine(1, true),
      () => vm.checkExtension(0),
    ]) {
      expect(stateCode(op)).toBe('ERR_KVM_CLOSED');
    }
  });
});

describe('KvmVm in-kernel devices (AIA)', () => {
  it('reports a missing device type as false / KvmError ENODEV', () => {
    const { vm } = make();
    expect(vm.hasDevice(11)).toBe(false);
    try {
      vm.createDevice(11);
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmError);
      expect((e as KvmError).code).toBe('ENODEV');
      expect((e as KvmError).message).toMatch(/^KVM_CREATE_DEVICE \(type 11\): /);
    }
    expect(() => vm.createDevice(-1)).toThrow(RangeError);
  });

  it('reads and writes device attributes as 8 little-endian bytes', () => {
    const native = new FakeVm();
    const attrs = new Map<string, bigint>();
    native.createDevice = () => 42;
    native.deviceAttr = (op, fd, group, attr, data) => {
      expect(fd).toBe(42);
      const key = `${group}/${attr}`;
      if (op === 0) return attrs.has(key);
      const dv = new DataView(data!.buffer, data!.byteOffset, 8);
      if (op === 1) dv.setBigUint64(0, attrs.get(key) ?? 0n, true);
      else attrs.set(key, dv.getBigUint64(0, true));
      return undefined;
    };
    const vm = new KvmVm(native);
    const dev = vm.createDevice(11);
    expect(dev.has(1, 0)).toBe(false);
    dev.set(1, 0, 0x0c00_0000n);
    expect(dev.has(1, 0)).toBe(true);
    expect(dev.get(1, 0)).toBe(0x0c00_0000n);
    vm.close();
    expect(stateCode(() => dev.get(1, 0))).toBe('ERR_KVM_CLOSED');
  });
});

describe('KvmHypervisor', () => {
  it('creates VMs, answers capabilities and closes idempotently', () => {
    const sys = new FakeSystem();
    const hv = new KvmHypervisor(sys);
    expect(hv.backend).toBe('kvm');
    expect(hv.apiVersion()).toBe(12);
    const vm = hv.createVm();
    expect(vm.backend).toBe('kvm');
    hv.close();
    hv.close();
    expect(sys.closed).toBe(true);
    expect(stateCode(() => hv.createVm())).toBe('ERR_KVM_CLOSED');
    expect(stateCode(() => hv.apiVersion())).toBe('ERR_KVM_CLOSED');
    // VMs outlive the system handle.
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 4096 });
  });
});
