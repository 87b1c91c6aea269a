// The compact per-page decode table (lib/backend/emulator/cpu/decoded-slots.ts).
import { describe, expect, it } from 'vitest';
import { Op, decoded } from '../../lib/backend/emulator/cpu/decode.js';
import { SLOTS, clearSlots, decodePageSlot, newDecodedSlots, setSlot, slotImm, slotWord, stillMatches } from '../../lib/backend/emulator/cpu/decoded-slots.js';

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
    expect(t.pool.length).toBeLessThanOrEqual(3 * (SLOTS + 1));
  });

  it('costs little for a sparsely used page: 200 slots stay in a pool of at most 256 entries', () => {
    const t = newDecodedSlots();
    for (let k = 0; k < 200; k++) setSlot(t, k * 10, 5, k);
    expect(t.pool.byteLength).toBeLessThanOrEqual(256 * 12);
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
    expect(t.used).toBe(2);
    expect([slotWord(t, 1000), slotImm(t, 1000)]).toEqual([42, -1]);
    // Entry 0 still reads as undecoded after being overwritten nowhere.
    expect(slotWord(t, 0)).toBe(Op.UNDECODED);
  });

  it('hands a pool one page outgrew to the next page that needs that size, with nothing of the old page readable', () => {
    const a = newDecodedSlots();
    // Fill a's first pool (64 entries with entry 0), so that the next decode grows it.
    for (let i = 0; i < 63; i++) setSlot(a, i, 0x500 + i, i);
    const outgrown = a.pool;
    setSlot(a, 63, 0x500 + 63, 63);
    expect(a.pool).not.toBe(outgrown);
    const b = newDecodedSlots();
    expect(b.pool).toBe(outgrown);
    // b sees none of a's entries, though they are still in the array it was given.
    for (let i = 0; i < SLOTS; i++) expect(slotWord(b, i)).toBe(Op.UNDECODED);
    setSlot(b, 5, 77, -7);
    expect([slotWord(b, 5), slotImm(b, 5)]).toEqual([77, -7]);
    // a's entries were copied into its new pool before the old one was handed on.
    for (let i = 0; i < 64; i++) expect([slotWord(a, i), slotImm(a, i)]).toEqual([0x500 + i, i]);
  });

  describe('stillMatches (after fence.i)', () => {
    // A page at offset 4096 of a 12 KiB buffer, with neighbours on both sides.
    const OFF = 4096;
    function page(): { view: DataView; t: ReturnType<typeof newDecodedSlots> } {
      const view = new DataView(new ArrayBuffer(3 * 4096));
      view.setUint16(OFF + 0, 0x4505, true); // c.li a0, 1 (slot 0)
      view.setInt32(OFF + 2, 0x00150513, true); // addi a0, a0, 1 (slot 1, upper half in slot 2)
      view.setUint16(OFF + 4094, 0x0513, true); // low half of a 32-bit instruction (last slot)
      const t = newDecodedSlots();
      // Decoded as the hart decodes them.
      for (const i of [0, 1, SLOTS - 1]) {
        decodePageSlot(view, OFF, i);
        setSlot(t, i, decoded.word, decoded.imm);
      }
      return { view, t };
    }

    it('holds when the decoded instructions are unchanged, whatever undecoded bytes do', () => {
      const { view, t } = page();
      expect(stillMatches(t, view, OFF)).toBe(true);
      view.setUint32(OFF + 100, 0xdeadbeef, true); // never decoded
      view.setUint16(OFF + 4096, 0xffff, true); // the next page (the straddler's upper half)
      expect(stillMatches(t, view, OFF)).toBe(true);
    });

    it('fails when a compressed instruction changed', () => {
      const { view, t } = page();
      view.setUint16(OFF + 0, 0x4509, true); // c.li a0, 2
      expect(stillMatches(t, view, OFF)).toBe(false);
    });

    it('fails when only the upper half of a 32-bit instruction changed', () => {
      const { view, t } = page();
      view.setUint16(OFF + 4, 0x0025, true); // addi a0, a0, 2
      expect(stillMatches(t, view, OFF)).toBe(false);
    });

    it('holds when the bytes changed but decode the same (an ignored field of a fence)', () => {
      const { view, t } = page();
      view.setInt32(OFF + 100, 0x0ff0000f, true); // fence iorw, iorw
      decodePageSlot(view, OFF, 50);
      setSlot(t, 50, decoded.word, decoded.imm);
      view.setInt32(OFF + 100, 0x0330000f, true); // fence rw, rw: the emulator runs every fence alike
      expect(stillMatches(t, view, OFF)).toBe(true);
      view.setInt32(OFF + 100, 0x0000100f, true); // fence.i: another instruction
      expect(stillMatches(t, view, OFF)).toBe(false);
    });

    it('fails when a compressed instruction became the low half of a 32-bit one', () => {
      const { view, t } = page();
      view.setInt32(OFF + 0, 0x00250513, true); // addi a0, a0, 2 over c.li and the slot after it
      expect(stillMatches(t, view, OFF)).toBe(false);
    });

    it('compares only the low half of an instruction that straddles into the next page', () => {
      const { view, t } = page();
      view.setUint16(OFF + 4094, 0x0593, true);
      expect(stillMatches(t, view, OFF)).toBe(false);
    });

    it('holds for a page with nothing decoded', () => {
      const { view } = page();
      expect(stillMatches(newDecodedSlots(), view, OFF)).toBe(true);
    });
  });
});
