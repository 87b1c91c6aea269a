import { describe, expect, it } from 'vitest';
import { MmioBus, leBytesToBigInt, type AccessSize, type MmioDevice } from '../../lib/vmm/bus.js';

function recorder(): MmioDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    read(offset: number, size: AccessSize) { log.push(`r ${offset} ${size}`); return 0x1122_3344_5566_7788n + BigInt(offset); },
    write(offset: number, size: AccessSize, value: bigint) { log.push(`w ${offset} ${size} 0x${value.toString(16)}`); },
  };
}

describe('MMIO bus', () => {
  it('hands devices offsets from their base, truncating values to the access size', () => {
    const bus = new MmioBus();
    const dev = recorder();
    bus.map('uart', 0x1000_0000n, 0x100, dev);
    expect(bus.read(0x1000_0010n, 1)).toBe(0x98n); // 0x...7788 + 0x10, low byte
    expect(bus.read(0x1000_0000n, 4)).toBe(0x5566_7788n);
    bus.write(0x1000_0004n, 2, 0xabcdefn);
    expect(dev.log).toEqual(['r 16 1', 'r 0 4', 'w 4 2 0xcdef']);
  });

  it('rejects zero-length, wrapping and overlapping ranges, naming them', () => {
    const bus = new MmioBus();
    bus.map('a', 0x1000n, 0x1000, recorder());
    expect(() => bus.map('z', 0x5000n, 0, recorder())).toThrow(/z: MMIO range size 0/);
    expect(() => bus.map('w', 0xffff_ffff_ffff_f000n, 0x2000, recorder())).toThrow(/wraps/);
    expect(() => bus.map('o', 0x1800n, 0x1000, recorder())).toThrow(/o: .* overlaps a/);
    expect(() => bus.map('o2', 0x0n, 0x1001, recorder())).toThrow(/overlaps a/);
    bus.map('adjacent', 0x2000n, 0x1000, recorder()); // touching is fine
    bus.map('below', 0x0n, 0x1000, recorder());
    expect(bus.list().map((r) => r.name)).toEqual(['below', 'a', 'adjacent']);
  });

  it('unmapped loads read 0 and stores are dropped, both counted', () => {
    const bus = new MmioBus();
    const dev = recorder();
    bus.map('dev', 0x1000n, 0x10, dev);
    expect(bus.read(0x2000n, 8)).toBe(0n);
    bus.write(0x2000n, 8, 5n);
    // An access straddling the end of a device is not the device's either.
    expect(bus.read(0x100en, 4)).toBe(0n);
    expect(bus.stats).toMatchObject({ unmappedReads: 2, unmappedWrites: 1, lastUnmapped: 0x100en });
    expect(dev.log).toEqual([]);
  });

  it('finds the right device among many (binary search)', () => {
    const bus = new MmioBus();
    const devs = Array.from({ length: 8 }, () => recorder());
    // map in scrambled order
    for (const i of [5, 2, 7, 0, 3, 6, 1, 4]) bus.map(`virtio${i}`, 0x1000_1000n + BigInt(i) * 0x1000n, 0x1000, devs[i]!);
    for (let i = 0; i < 8; i++) {
      expect(bus.find(0x1000_1000n + BigInt(i) * 0x1000n + 0xffcn, 4)).toMatchObject({ offset: 0xffc, range: { name: `virtio${i}` } });
    }
    expect(bus.unmap('virtio3')).toBe(true);
    expect(bus.find(0x1000_4000n, 4)).toBeUndefined();
  });

  it('decodes little-endian exit data', () => {
    expect(leBytesToBigInt(Uint8Array.of(0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff), 4)).toBe(0x1234_5678n);
    expect(leBytesToBigInt(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 0x80), 8)).toBe(0x8007_0605_0403_0201n);
  });
});
