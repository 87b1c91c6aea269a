/**
 * The decoded instructions of one 4 KiB code page (decode.ts output), stored compactly.
 *
 * A page has one slot per halfword (2048), but code uses few of them: at the Linux boot's init
 * marker the ~900 cached pages held ~220 decoded slots each (11%). Two Int32Arrays with a word and
 * an immediate per slot cost 16 KiB a page whatever is used (14 of the ~20 MiB the decode caches
 * held, issue 5's memory goal); here a slot holds only where its entry starts (Uint16Array, 4 KiB)
 * and the entries (packed word, immediate) sit densely in a pool that grows by doubling:
 *
 *   word = pool[index[i]], imm = pool[index[i] + 1]
 *
 * (index holds 2 * the entry number, so the interpreter's fetch is two dependent loads, no shift.)
 * Entry 0 is all zeros, i.e. Op.UNDECODED with imm 0, so an undecoded slot needs no test of its
 * own: reading it through entry 0 gives the op that says "decode me". A slot decoded again (after
 * a clear) gets a new entry; entries are only reclaimed by clear(), which forgets them all.
 *
 * The interpreter (hart.ts) reads index and pool inline; `pool` is replaced when it grows, so
 * whoever holds it reloads it after anything that may decode (set()).
 */

/** Halfword slots per 4 KiB page. */
export const SLOTS = 2048;
/** Entries a new pool has room for (entry 0 included); doubled when full. */
const FIRST_ENTRIES = 64;

export interface DecodedSlots {
  /** Slot -> 2 * its entry number, i.e. the entry's offset in pool; 0 = not decoded. */
  readonly index: Uint16Array;
  /** Entry e: pool[2e] the packed word (decode.ts), pool[2e + 1] the immediate. */
  pool: Int32Array;
  /** Entries in use, entry 0 included. */
  used: number;
}

export function newDecodedSlots(): DecodedSlots {
  return { index: new Uint16Array(SLOTS), pool: new Int32Array(2 * FIRST_ENTRIES), used: 1 };
}

/** Forget every decoded slot (the pool keeps its size for the page's next decodes). */
export function clearSlots(t: DecodedSlots): void {
  t.index.fill(0);
  t.used = 1;
}

/** Record slot i's decode. At most SLOTS entries can be live besides entry 0, so the pool never
 * needs more than SLOTS + 1 (a slot decoded twice without a clear keeps its entry). */
export function setSlot(t: DecodedSlots, i: number, word: number, imm: number): void {
  let at = t.index[i];
  if (at === 0) {
    at = 2 * t.used++;
    if (at >= t.pool.length) {
      const grown = new Int32Array(Math.min(2 * t.pool.length, 2 * (SLOTS + 1)));
      grown.set(t.pool);
      t.pool = grown;
    }
    t.index[i] = at;
  }
  t.pool[at] = word;
  t.pool[at + 1] = imm;
}

/** Slot i's packed word (0 = Op.UNDECODED when it is not decoded). */
export function slotWord(t: DecodedSlots, i: number): number {
  return t.pool[t.index[i]];
}

/** Slot i's immediate. */
export function slotImm(t: DecodedSlots, i: number): number {
  return t.pool[t.index[i] + 1];
}
