/**
 * The arena of one VM: a single shared WebAssembly.Memory holding everything compiled WebAssembly
 * blocks (wasm-jit.ts) touch — guest RAM slots, each hart's register file, block "out" words and
 * load/store TLB arrays — so a block reaches all of it with plain loads and stores at absolute
 * addresses.
 *
 * Why shared: growing a non-shared memory detaches its old ArrayBuffer (every RAM view, register
 * file and TLB array in use would die); a shared memory (WebAssembly threads proposal, "shared"
 * limits flag) only ever grows in place, so old SharedArrayBuffers and views over them stay valid.
 *
 * Addresses: 32-bit (memory32), at most 65536 pages = 4 GiB in total. Address 0..ALIGN-1 is never
 * handed out, so an arena address of 0 can mean "not in the arena" (tlb.ts addr, RamRegion).
 * Allocation is first fit over a sorted free list with coalescing, so deleted memory slots give
 * their range back; a failed grow (4 GiB limit, host out of memory) returns -1 and the caller falls
 * back to memory outside the arena (correct, only slower: compiled code side-exits on it).
 */
import { Wasm, type WasmMemory } from './wasm-api.js';

/** WebAssembly page size (core spec §2.3.8 "Memory types": 64 KiB). */
export const WASM_PAGE = 65536;
/** Most pages a memory32 can have (core spec §2.3.8: 2^16 pages = 4 GiB). */
export const MAX_PAGES = 65536;
/** Allocation granule: a guest page, so RAM slots are page aligned inside the arena. */
const ALIGN = 4096;

interface FreeRange { addr: number; size: number }

export class Arena {
  readonly memory: WasmMemory;
  /** Every SharedArrayBuffer this memory has shown (one per size): lets a RamRegion prove its bytes
   * really are this arena's memory before compiled code is allowed to address it directly. */
  readonly #buffers = new WeakSet<SharedArrayBuffer>();
  /** Free ranges inside the current size, sorted by address, never adjacent (coalesced). */
  readonly #free: FreeRange[] = [];
  /** End of the allocated part: everything from here to the memory's size is free too. */
  #top = ALIGN;
  /** Highest end ever handed out: memory above it has never been used, so it is still zero. */
  #highWater = ALIGN;
  readonly #maxPages: number;

  constructor(maxPages = MAX_PAGES) {
    this.#maxPages = Math.min(MAX_PAGES, Math.max(1, maxPages | 0));
    this.memory = new Wasm.Memory({ initial: 1, maximum: this.#maxPages, shared: true });
    this.#note();
  }

  /** The memory's current SharedArrayBuffer (a new object after each grow; old ones stay valid). */
  get buffer(): SharedArrayBuffer {
    return this.#note();
  }

  #note(): SharedArrayBuffer {
    const b = this.memory.buffer as unknown as SharedArrayBuffer;
    this.#buffers.add(b);
    return b;
  }

  /** True when `buffer` is (a size of) this arena's memory. */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer instanceof SharedArrayBuffer && this.#buffers.has(buffer);
  }

  /** Allocates `size` zeroed bytes (rounded up to 4 KiB); returns the address, or -1. */
  alloc(size: number): number {
    if (!Number.isSafeInteger(size) || size <= 0) return -1;
    const need = Math.ceil(size / ALIGN) * ALIGN;
    for (let k = 0; k < this.#free.length; k++) {
      const r = this.#free[k];
      if (r.size < need) continue;
      const addr = r.addr;
      if (r.size === need) this.#free.splice(k, 1);
      else { r.addr += need; r.size -= need; }
      new Uint8Array(this.buffer, addr, need).fill(0); // reused: KVM hands out zeroed memory
      return addr;
    }
    const end = this.#top + need;
    if (end > this.#maxPages * WASM_PAGE) return -1;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
      } catch {
        return -1; // the host could not commit more memory: the caller falls back
      }
    }
    const addr = this.#top;
    this.#top = end;
    // Memory never handed out is zero (grow zero-fills, core spec §4.5.3.9 "Growing memories");
    // a range given back at the top and handed out again is not.
    if (addr < this.#highWater) new Uint8Array(this.buffer, addr, Math.min(end, this.#highWater) - addr).fill(0);
    if (end > this.#highWater) this.#highWater = end;
    this.#note();
    return addr;
  }

  /** Gives [addr, addr + size) back (size as passed to alloc). */
  free(addr: number, size: number): void {
    const len = Math.ceil(size / ALIGN) * ALIGN;
    if (addr < ALIGN || addr + len > this.#top) return;
    if (addr + len === this.#top) {
      this.#top = addr;
      // The range below the new top may be free too: give it back to the bump pointer.
      const last = this.#free[this.#free.length - 1];
      if (last !== undefined && last.addr + last.size === this.#top) { this.#top = last.addr; this.#free.pop(); }
      return;
    }
    let k = 0;
    while (k < this.#free.length && this.#free[k].addr < addr) k++;
    this.#free.splice(k, 0, { addr, size: len });
    const next = this.#free[k + 1];
    if (next !== undefined && addr + len === next.addr) { this.#free[k].size += next.size; this.#free.splice(k + 1, 1); }
    const prev = this.#free[k - 1];
    if (prev !== undefined && prev.addr + prev.size === addr) { prev.size += this.#free[k].size; this.#free.splice(k, 1); }
  }

  /** Bytes currently handed out (for tests). */
  get used(): number {
    return this.#top - ALIGN - this.#free.reduce((s, r) => s + r.size, 0);
  }

  int32(addr: number, length: number): Int32Array {
    return new Int32Array(this.buffer, addr, length);
  }
}

/** One process-wide arena for harts created without one (unit tests: `new Hart(id, env)`): their
 * register files and TLBs live here, their RAM is wherever the caller put it. A hart's block goes
 * back to the free list when the hart is garbage collected. */
let fallback: Arena | null = null;
const reclaim = new FinalizationRegistry<{ arena: Arena; addr: number; size: number }>((r) => r.arena.free(r.addr, r.size));

export function fallbackArena(): Arena {
  return fallback ?? (fallback = new Arena());
}

/** Frees `size` bytes at `addr` of `arena` once `owner` is garbage collected. */
export function freeWhenCollected(owner: object, arena: Arena, addr: number, size: number): void {
  reclaim.register(owner, { arena, addr, size });
}
