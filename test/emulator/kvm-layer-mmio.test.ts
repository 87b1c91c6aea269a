/**
 * Memory on the software KVM: MMIO exits (length, direction, little-endian data, load completion
 * with sign/zero extension, compressed instructions), read-only slots, dirty logging, fetch faults
 * (EOPNOTSUPP) and misaligned MMIO (EIO), and KVM's memory-region rules.
 */
import { describe, expect, it } from 'vitest';
import { REG_PC } from '../../lib/abi/regs.js';
import { KvmError, KvmStateError } from '../../lib/errors.js';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import { MemorySlots } from '../../lib/backend/emulator/memory-slots.js';
import { hasCrossTools } from './support/asm.js';
import { DATA, makeMachine, RAM_BASE, REPORT_EID } from './support/guest.js';

const d = hasCrossTools() ? describe : describe.skip;
const REPORT = `sbi ${REPORT_EID}, 0`;
const DEV = 0x1000_0000;

d('MMIO exits', () => {
  it('stores and loads outside RAM exit with KVM semantics; the load value is extended as the instruction says', async () => {
    const m = makeMachine(`
      li t0, ${DEV}
      li t1, 0x1122334455667788
      sd t1, 0(t0)
      sw t1, 4(t0)
      sb t1, 7(t0)
      lb a0, 1(t0)
      lbu a1, 1(t0)
      lw a2, 0(t0)
      mv a4, t0
      .option rvc
      c.lw a3, 4(a4)
      .option norvc
      ld a5, 8(t0)
      ${REPORT}
    `);
    const v = m.vcpus[0];
    const exits = [];
    for (let i = 0; i < 3; i++) {
      const e = await v.run();
      exits.push(e);
      expect(() => v.setMmioLoad(1)).toThrow(KvmStateError); // a store has nothing to load
    }
    expect(exits).toEqual([
      { reason: 'mmio', address: BigInt(DEV), length: 8, isWrite: true, data: new Uint8Array([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]) },
      { reason: 'mmio', address: BigInt(DEV + 4), length: 4, isWrite: true, data: new Uint8Array([0x88, 0x77, 0x66, 0x55]) },
      { reason: 'mmio', address: BigInt(DEV + 7), length: 1, isWrite: true, data: new Uint8Array([0x88]) },
    ]);
    const loads: [number, number, number | bigint][] = [
      [DEV + 1, 1, 0x80],
      [DEV + 1, 1, 0x180], // truncated to the access length
      [DEV, 4, 0x1_8000_0000],
      [DEV + 4, 4, 0xfffffffe],
      [DEV + 8, 8, 0xdead_beef_0000_0001n],
    ];
    for (const [address, length, value] of loads) {
      const e = await v.run();
      expect(e).toEqual({ reason: 'mmio', address: BigInt(address), length, isWrite: false, data: new Uint8Array(length) });
      v.setMmioLoad(value);
    }
    const report = await v.run();
    expect(report).toMatchObject({
      reason: 'sbi',
      extensionId: REPORT_EID,
      args: [
        0xffff_ffff_ffff_ff80n, // lb sign-extends
        0x80n, // lbu zero-extends
        0xffff_ffff_8000_0000n, // lw sign-extends the truncated value
        0xffff_ffff_ffff_fffen, // c.lw: compressed, pc advanced by 2
        BigInt(DEV), // a4 untouched
        0xdead_beef_0000_0001n,
      ],
    });
  });

  it('a read-only slot is read by the guest and its stores become MMIO exits', async () => {
    const m = makeMachine(`
      li t0, 0x90000000
      ld a0, 0(t0)
      sd a0, 8(t0)
      ld a1, 8(t0)
      ${REPORT}
    `);
    const rom = m.vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x9000_0000, size: 4096, readonly: true });
    rom.write64(0x9000_0000, 0xabcdn);
    const v = m.vcpus[0];
    const e = await v.run();
    expect(e).toEqual({ reason: 'mmio', address: 0x9000_0008n, length: 8, isWrite: true, data: new Uint8Array([0xcd, 0xab, 0, 0, 0, 0, 0, 0]) });
    const r = await v.run();
    expect(r).toMatchObject({ reason: 'sbi', args: [0xabcdn, 0n, 0n, 0n, 0n, 0n] });
    expect(rom.read64(0x9000_0008)).toBe(0n);
  });

  it('fetch outside RAM fails run() with EOPNOTSUPP; misaligned MMIO with EIO', async () => {
    const fetch = makeMachine(`
      li t0, 0x20000000
      jr t0
    `);
    await expect(fetch.vcpus[0].run()).rejects.toMatchObject({ name: 'KvmError', code: 'EOPNOTSUPP', request: expect.stringContaining('KVM_RUN') });
    expect(fetch.vcpus[0].getReg(REG_PC)).toBe(0x2000_0000n);
    const mis = makeMachine(`
      li t0, ${DEV + 2}
      lw a0, 0(t0)
    `);
    const err = await mis.vcpus[0].run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvmError);
    expect((err as KvmError).code).toBe('EIO');
  });
});

d('dirty log', () => {
  it('tracks guest stores per 4 KiB page; KVM_GET_DIRTY_LOG returns the bitmap and clears it', async () => {
    const m = makeMachine(`
      li t0, ${DATA}
      sd t0, 0(t0)
      li t1, 4096 * 3
      add t0, t0, t1
      sb t0, 100(t0)
      ${REPORT}
      li t0, ${DATA + 4096}
      sw t0, 0(t0)
      ${REPORT}
    `, { logDirty: true });
    const v = m.vcpus[0];
    m.ram.write8(DATA + 8192, 1); // user-space writes are not logged (KVM logs guest writes)
    await v.run();
    const page = (DATA - RAM_BASE) / 4096;
    const log = m.vm.getDirtyLog(0);
    expect(log.length).toBe(RAM_SIZE_PAGES / 8);
    const set = [...bits(log)];
    expect(set).toEqual([page, page + 3]);
    expect([...bits(m.vm.getDirtyLog(0))]).toEqual([]);
    v.setSbiReturn(0);
    await v.run();
    expect([...bits(m.vm.getDirtyLog(0))]).toEqual([page + 1]);
  });
});

const RAM_SIZE_PAGES = (1 << 20) / 4096;
function* bits(bitmap: Uint8Array): Generator<number> {
  for (let i = 0; i < bitmap.length * 8; i++) if (bitmap[i >> 3] & (1 << (i & 7))) yield i;
}

describe('memory regions (KVM_SET_USER_MEMORY_REGION rules)', () => {
  const vm = createEmulator().createVm();
  const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as KvmError).code ?? (e as Error).name; } return 'ok'; };
  it('the wrapper layer refuses bad arguments, overlaps, reuse and misalignment with TypeError/RangeError (as the KVM backend)', () => {
    expect(code(() => vm.setMemoryRegion({ slot: -1, guestPhysAddr: 0, size: 4096 }))).toBe('RangeError');
    expect(code(() => vm.setMemoryRegion({ slot: 40000, guestPhysAddr: 0, size: 4096 }))).toBe('RangeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 'x' as never, size: 4096 }))).toBe('TypeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0 }))).toBe('RangeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x1000, size: 100 }))).toBe('RangeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x1800, size: 4096 }))).toBe('RangeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 4096, readonly: 1 as never }))).toBe('TypeError');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x10000, size: 8192 }))).toBe('ok');
    expect(code(() => vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x40000, size: 4096 }))).toBe('RangeError'); // reuse
    expect(code(() => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x11000, size: 4096 }))).toBe('RangeError'); // overlap
    expect(code(() => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0xf000, size: 8192 }))).toBe('RangeError');
    expect(code(() => vm.getDirtyLog(0))).toBe('RangeError'); // created without logDirty
    expect(code(() => vm.getDirtyLog(7))).toBe('RangeError');
    expect(code(() => vm.deleteMemoryRegion(7))).toBe('RangeError');
    expect(vm.memoryRegions().map((r) => r.slot)).toEqual([0]);
  });
  it('behind it, the kernel rules answer as KVM 6.12: EINVAL, EEXIST, EFAULT', () => {
    const slots = new MemorySlots();
    slots.add({ slot: 0, guestPhysAddr: 0x10000, size: 8192 });
    expect(code(() => slots.kernelSet(1, 0x1800n, 4096, false, false))).toBe('EINVAL'); // misaligned address
    expect(code(() => slots.kernelSet(1, 0x20000n, 100, false, false))).toBe('EINVAL'); // size
    expect(code(() => slots.kernelSet(40000, 0x20000n, 4096, false, false))).toBe('EINVAL'); // slot id
    expect(code(() => slots.kernelSet(0, 0x40000n, 4096, false, false))).toBe('EINVAL'); // new mapping for a used slot
    expect(code(() => slots.kernelSet(1, 0x11000n, 4096, false, false))).toBe('EEXIST');
    expect(code(() => slots.kernelSet(1, 1n << 50n, 4096, false, false))).toBe('EFAULT');
    expect(code(() => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 1n << 50n, size: 4096 }))).toBe('EFAULT'); // reachable
    expect(code(() => vm.irqLine(1, true))).toBe('ENXIO');
  });
  it('deleting a region invalidates its GuestMemory; the slot can be reused', () => {
    const mem = vm.setMemoryRegion({ slot: 2, guestPhysAddr: 0x100000, size: 4096 });
    mem.write32(0x100000, 7);
    expect(vm.memoryRegions().map((r) => r.slot)).toEqual([0, 2]);
    vm.deleteMemoryRegion(2);
    expect(mem.closed).toBe(true);
    expect(() => mem.read32(0x100000)).toThrow(expect.objectContaining({ code: 'ERR_KVM_CLOSED' }));
    const again = vm.setMemoryRegion({ slot: 2, guestPhysAddr: 0x100000, size: 4096 });
    expect(again.read32(0x100000)).toBe(0); // fresh, zeroed memory
  });
});
