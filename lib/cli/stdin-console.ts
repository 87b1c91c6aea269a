/**
 * Non-blocking console input from process.stdin for SBI console reads (DBCN console_read, legacy
 * getchar: both must not block, SBI v2.0 §12.2, §5.3). Listening starts at the first read, so a
 * guest that never reads leaves stdin alone; bytes are buffered until the guest asks.
 */
import type { ConsoleInput } from '../sbi/dbcn.js';

/** Buffered stdin bytes beyond this are dropped (a guest that never reads cannot grow memory). */
const MAX_BUFFERED = 1 << 20;

export function stdinConsole(stream: NodeJS.ReadableStream = process.stdin): ConsoleInput & { dispose(): void } {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let listening = false;
  const onData = (d: Buffer | string): void => {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    if (buffered + b.length > MAX_BUFFERED) return;
    chunks.push(b);
    buffered += b.length;
  };
  return {
    read(max: number): Uint8Array {
      if (!listening) {
        listening = true;
        stream.on('data', onData);
        stream.on('error', () => {});
      }
      if (buffered === 0) return new Uint8Array(0);
      const all = Buffer.concat(chunks);
      const out = new Uint8Array(all.subarray(0, max));
      const rest = all.subarray(out.length);
      chunks = rest.length ? [Buffer.from(rest)] : [];
      buffered = rest.length;
      return out;
    },
    dispose(): void {
      if (listening) {
        stream.off('data', onData);
        (stream as NodeJS.ReadStream).pause?.();
      }
    },
  };
}
