/**
 * The decoded instructions of one 4 KiB code page (decode.ts output), stored compactly.
 *
 * A page has one slot per halfword (2048), but code uses few of them: at the Linux boot's init
 * marker the ~900 cached pages held ~220 decoded slots each (11%). Two Int32Arrays with a word and
 * an immediate per slot, plus a 4 KiB copy of the page to tell whether the code changed, cost 20 KiB
 * a page whatever is used (issue 5's memory goal). Here a slot holds only where its entry starts
 * (Uint16Array, 4 KiB) and the entries sit densely in a pool that grows by doubling:
 *
 *   word = pool[index[i]], imm = pool[index[i] + 1]
 *
 * (index holds the entry's pool offset, so the interpreter's fetch is two dependent loads, no
 * multiply; measured cost: +6% for the interpreter alone, +2-4% for the Linux boot with compiled
 * blocks.) No copy of the code is kept: stillMatches() decodes the page's bytes again and compares
 * (an entry also held the raw instruction until that was measured to cost ~1.7 MiB at the P3
 * marker, against ~1.7 million slot re-decodes over the boot, a few tens of milliseconds).
 *
 * Entry 0 is all zeros, i.e. Op.UNDECODED with imm 0, so an undecoded slot needs no test of its
 * own: reading it through entry 0 gives the op that says "decode me". A slot decoded again (after
 * a clear) gets a new entry; entries are only reclaimed by clearSlots(), which forgets them all.
 *
 * The interpreter (hart.ts) reads index and pool inline; `pool` is replaced when it grows, so
 * whoever holds it reloads it after anything that may decode (setSlot()).
 */

import { Op, decode16, decode32, decoded } from './decode.js';

/** Halfword slots per 4 KiB page. */
export const SLOTS = 2048;
/** Entries a new pool has room for (entry 0 included); doubled when full (up to SLOTS + 1). */
const FIRST_ENTRIES = 64;
/** Int32s per entry: word, imm. */
const ENTRY = 2;

export interface DecodedSlots {
  /** Slot -> its entry's offset in pool (ENTRY * entry number); 0 = not decoded. */
  readonly index: Uint16Array;
  /** Entry e at offset 2e: the packed word (decode.ts) and the immediate. */
  pool: Int32Array;
  /** Entries in use, entry 0 included. */
  used: number;
}

export function newDecodedSlots(): DecodedSlots {
  return { index: new Uint16Array(SLOTS), pool: takePool(0), used: 1 };
}

/**
 * Pools outgrown by some page, by size class (sizeClass), for the next page that grows to that
 * size. Every page's pool passes through the same sizes, so an outgrown pool is soon taken again.
 * Without this, each outgrown pool waited for V8's next full GC to free its memory (typed array
 * contents live outside V8's heap): about as much memory again as the live pools between two full
 * GCs (issue 5's memory goal). Pools beyond SPARE_PER_CLASS are left to the GC, so at most that
 * many per class outlive their pages.
 */
const spare: Int32Array[][] = [];
const SPARE_PER_CLASS = 8;

/** Size class of a pool of `length` Int32s: k for FIRST_ENTRIES << k entries (64..2048), and
 * FULL_CLASS for the largest pool, SLOTS + 1 entries (every slot decoded, plus entry 0). */
const FULL_CLASS = 6;
function sizeClass(length: number): number {
  return length === ENTRY * (SLOTS + 1) ? FULL_CLASS : 31 - Math.clz32(length / (ENTRY * FIRST_ENTRIES));
}

/** A pool of class k: an outgrown one (its stale entries are never read: index only points below
 * `used`, and the grower copies its live entries in) or a new one. */
function takePool(k: number): Int32Array {
  return spare[k]?.pop() ?? new Int32Array(Math.min(ENTRY * (FIRST_ENTRIES << k), ENTRY * (SLOTS + 1)));
}

function releasePool(pool: Int32Array): void {
  const k = sizeClass(pool.length);
  const list = spare[k] ?? (spare[k] = []);
  if (list.length < SPARE_PER_CLASS) list.push(pool);
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
    at = ENTRY * t.used++;
    if (at >= t.pool.length) {
      const grown = takePool(sizeClass(t.pool.length) + 1);
      grown.set(t.pool);
      releasePool(t.pool);
      t.pool = grown;
    }
    t.index[i] = at;
  }
  t.pool[at] = word;
  t.pool[at + 1] = imm;
}

/**
 * Decode slot i of the page at byte `offset` of `view` (little-endian, as RISC-V fetches) into
 * decode.ts's `decoded`: a compressed instruction, a 32-bit one, or Op.CROSS_PAGE with the low
 * half as immediate for a 32-bit instruction in the last slot (its upper half is on the next page;
 * the hart fetches that at run time).
 */
export function decodePageSlot(view: DataView, offset: number, i: number): void {
  const off = offset + 2 * i;
  const half = view.getUint16(off, true);
  if ((half & 3) !== 3) decode16(half);
  else if (i === SLOTS - 1) { decoded.word = Op.CROSS_PAGE; decoded.imm = half; }
  else decode32(view.getInt32(off, true));
}

/**
 * Whether every decoded slot still holds what the page's bytes at `offset` of `view` decode to
 * now. Slots never decoded do not matter: they decode from whatever the page holds when reached.
 * Comparing decodes rather than bytes is exact for what runs: the interpreter and the block
 * compilers use only the decoded word and immediate. Used after fence.i (hart.ts flushCode), when
 * decoded slots and the blocks compiled from them may be kept only if the code they came from is
 * unchanged (Zifencei: fence.i makes earlier stores to instruction memory visible to this hart's
 * fetches).
 */
export function stillMatches(t: DecodedSlots, view: DataView, offset: number): boolean {
  const index = t.index, pool = t.pool;
  for (let i = 0; i < SLOTS; i++) {
    const at = index[i];
    if (at === 0) continue;
    decodePageSlot(view, offset, i);
    if (decoded.word !== pool[at] || decoded.imm !== pool[at + 1]) return false;
  }
  return true;
}

/** Slot i's packed word (0 = Op.UNDECODED when it is not decoded). */
export function slotWord(t: DecodedSlots, i: number): number {
  return t.pool[t.index[i]];
}

/** Slot i's immediate. */
export function slotImm(t: DecodedSlots, i: number): number {
  return t.pool[t.index[i] + 1];
}
