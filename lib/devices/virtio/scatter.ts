/**
 * Copying device output into a chain's device-writable buffers (scatter), bounded by their length.
 */
import { checkedWrite, type DmaMemory } from './dma-memory.js';
import type { Segment } from './virtqueue.js';

/** Writes as much of `data` as fits into `segments`, returns the byte count written. */
export function scatter(mem: DmaMemory, segments: readonly Segment[], data: Uint8Array): number {
  let done = 0;
  for (const seg of segments) {
    if (done >= data.length) break;
    const n = Math.min(seg.len, data.length - done);
    checkedWrite(mem, seg.addr, data.subarray(done, done + n), 'writable buffer');
    done += n;
  }
  return done;
}
