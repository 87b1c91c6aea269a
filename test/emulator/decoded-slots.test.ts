// The compact per-page decode table (lib/backend/emulator/cpu/decoded-slots.ts).
import { describe, expect, it } from 'vitest';
import { Op } from '../../lib/backend/emulator/cpu/decode.js';
import { SLOTS, clearSlots, newDecodedSlots, setSlot, slotImm, slotWord } from '../../lib/backend/emulator/cpu/decoded-slots.js';

describe('decoded slots', () => {
  it('reads an undecoded slot as Op.UNDECODED with immediate 0', () => {
    const t = newDecodedSlots();
    expect(slotWord(t, 0)).toBe(Op.UNDECODED);
    expect(slotWord(t, SLOTS - 1)).toBe(Op.UNDECODED);
    expect(slotImm(t, 7)).toBe(0);
  });

  it('keeps every slot of a fully decoded page, growing the pool only as far as needed', () => {
    const t = newDecodedSlots();
    const start = t.pool.length;
    // Decode in a scattered order, as execution does.
    for (let k = 0; k < SLOTS; k++) {
      const i = (k * 769) % SLOTS;
      setSlot(t, i, 0x1000 + i, 1 - i);
    }
    for (let i = 0; i < SLOTS; i++) {
      expect(slotWord(t, i)).toBe(0x1000 + i);
      expect(slotImm(t, i)).toBe(1 - i);
    }
    expect(t.used).toBe(SLOTS + 1);
    expect(t.pool.length).toBeGreaterThan(start);
    expect(t.pool.length).toBeLessThanOrEqual(2 * (SLOTS + 1));
  });

  it('costs little for a sparsely used page: 200 slots stay in a pool of at most 256 entries', () => {
    const t = newDecodedSlots();
    for (let k = 0; k < 200; k++) setSlot(t, k * 10, 5, k);
    expect(t.pool.byteLength).toBeLessThanOrEqual(256 * 8);
    expect(t.index.byteLength + t.pool.byteLength).toBeLessThan(8 * 1024);
  });

  it('rewrites a slot decoded again in place, without a new entry', () => {
    const t = newDecodedSlots();
    setSlot(t, 3, 11, 12);
    const used = t.used;
    setSlot(t, 3, 21, 22);
    expect(t.used).toBe(used);
    expect([slotWord(t, 3), slotImm(t, 3)]).toEqual([21, 22]);
  });

  it('forgets every slot on clear and reuses the pool from its start', () => {
    const t = newDecodedSlots();
    for (let i = 0; i < 300; i++) setSlot(t, i, 1 + i, i);
    const pool = t.pool;
    clearSlots(t);
    for (let i = 0; i < 300; i++) expect(slotWord(t, i)).toBe(Op.UNDECODED);
    expect(t.used).toBe(1);
    setSlot(t, 1000, 42, -1);
    expect(t.pool).toBe(pool);
    expect(t.index[1000]).toBe(2);
    expect([slotWord(t, 1000), slotImm(t, 1000)]).toEqual([42, -1]);
    // Entry 0 still reads as undecoded after being overwritten nowhere.
    expect(slotWord(t, 0)).toBe(Op.UNDECODED);
  });
});
