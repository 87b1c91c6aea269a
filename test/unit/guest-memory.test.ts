import { describe, expect, it } from 'vitest';
import { ArrayBufferGuestMemory } from '../../lib/backend/guest-memory.js';
import { KvmStateError } from '../../lib/errors.js';

const BASE = 0x8000_0000n;

function mem(size = 0x2000, readonly = false) {
  return new ArrayBufferGuestMemory(3, BASE, size, readonly, new ArrayBuffer(size));
}

describe('ArrayBufferGuestMemory', () => {
  it('reports its slot geometry', () => {
    const m = mem(0x2000, true);
    expect(m.slot).toBe(3);
    expect(m.guestPhysAddr).toBe(BASE);
    expect(m.size).toBe(0x2000);
    expect(m.readonly).toBe(true);
    expect(m.closed).toBe(false);
  });

  it('stores little-endian and reads back with number and bigint addresses', () => {
    const m = mem();
    m.write32(BASE + 4n, 0x11223344);
    expect(m.read8(Number(BASE) + 4)).toBe(0x44);
    expect(m.read16(BASE + 6n)).toBe(0x1122);
    m.write64(BASE + 8n, 0x0102030405060708n);
    expect(m.read32(BASE + 8n)).toBe(0x05060708);
    expect(m.read64(BASE + 8n)).toBe(0x0102030405060708n);
    m.write64(BASE + 16n, -1n);
    expect(m.read64(BASE + 16n)).toBe(0xffff_ffff_ffff_ffffn);
    m.write16(BASE, -2);
    expect(m.read16(BASE)).toBe(0xfffe);
  });

  it('accepts the last byte and rejects one past the end, naming the address', () => {
    const m = mem(0x1000);
    m.write8(BASE + 0xfffn, 7);
    expect(m.read8(BASE + 0xfffn)).toBe(7);
    expect(() => m.read8(BASE + 0x1000n)).toThrow(/0x80001000/);
    expect(() => m.read32(BASE + 0xffdn)).toThrow(RangeError);
    expect(() => m.read8(BASE - 1n)).toThrow(RangeError);
    expect(() => m.read8(-1)).toThrow(RangeError);
    expect(() => m.read8(1.5)).toThrow(RangeError);
    expect(() => m.read8('0' as unknown as number)).toThrow(TypeError);
  });

  it('validates values', () => {
    const m = mem();
    expect(() => m.write8(BASE, 256)).toThrow(RangeError);
    expect(() => m.write32(BASE, 2 ** 32)).toThrow(RangeError);
    expect(() => m.write64(BASE, 1n << 64n)).toThrow(RangeError);
    expect(() => m.write64(BASE, 1 as unknown as bigint)).toThrow(TypeError);
    expect(() => m.fill(BASE, 4, 300)).toThrow(RangeError);
  });

  it('copies bytes in and out and fills', () => {
    const m = mem();
    m.writeBytes(BASE + 0x10n, new Uint8Array([1, 2, 3]));
    const copy = m.readBytes(BASE + 0x10n, 3);
    expect([...copy]).toEqual([1, 2, 3]);
    copy[0] = 9;
    expect(m.read8(BASE + 0x10n)).toBe(1);
    m.fill(BASE + 0x20n, 16, 0xaa);
    expect(m.read64(BASE + 0x28n)).toBe(0xaaaa_aaaa_aaaa_aaaan);
    expect(m.read8(BASE + 0x30n)).toBe(0);
    expect(() => m.writeBytes(BASE + 0x1fffn, new Uint8Array(2))).toThrow(RangeError);
    expect(m.readBytes(BASE, 0).length).toBe(0);
  });

  it('answers contains() without throwing', () => {
    const m = mem(0x1000);
    expect(m.contains(BASE)).toBe(true);
    expect(m.contains(BASE + 0xff8n, 8)).toBe(true);
    expect(m.contains(BASE + 0xff9n, 8)).toBe(false);
    expect(m.contains(-5)).toBe(false);
    expect(m.contains(BASE, -1)).toBe(false);
  });

  it('throws ERR_KVM_CLOSED after invalidate()', () => {
    const m = mem();
    m.invalidate();
    m.invalidate();
    expect(m.closed).toBe(true);
    for (const op of [() => m.read8(BASE), () => m.write64(BASE, 0n), () => m.readBytes(BASE, 1), () => m.fill(BASE, 1, 0)]) {
      try {
        op();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KvmStateError);
        expect((e as KvmStateError).code).toBe('ERR_KVM_CLOSED');
      }
    }
  });

  it('rejects a buffer smaller than the size', () => {
    expect(() => new ArrayBufferGuestMemory(0, 0n, 0x2000, false, new ArrayBuffer(0x1000))).toThrow(RangeError);
  });
});
