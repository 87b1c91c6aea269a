/**
 * The terminal side of the guest console for `kvm-riscv run`. When stdin is a TTY it goes into raw
 * mode (no line editing, no echo, Ctrl-C is a byte for the guest, as in QEMU -nographic) and
 * ConsoleEscapeFilter picks out Ctrl-A x to quit; raw mode is undone however the run ends. When
 * stdin is a pipe or file, bytes are passed through as they are; from /dev/null nothing is read.
 */
import { fstatSync, statSync } from 'node:fs';
import type { HostInput } from './cli.js';
import { ConsoleEscapeFilter } from './console-escape.js';

/**
 * Whether descriptor `fd` is /dev/null (the same character device), where input never comes:
 * then no stream is opened on it. (A stream on a file or device loads Node's fs stream and
 * fs/promises modules, ~0.8 MiB resident, and reads it on a thread-pool thread; CI jobs and
 * benchmarks start the VMM with stdin from /dev/null, issue 5's memory goal.) False where there
 * is no /dev/null or fd cannot be examined.
 */
export function isDevNull(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    const devNull = statSync('/dev/null');
    return st.isCharacterDevice() && devNull.isCharacterDevice() && st.rdev === devNull.rdev;
  } catch {
    return false;
  }
}

/** The guest console's input from `stream`, by default process.stdin (taken only when the run
 * starts, and not at all when stdin is /dev/null). */
export function terminalInput(stream?: NodeJS.ReadStream): HostInput {
  return (onData, onQuit) => {
    if (stream === undefined && isDevNull(0)) return () => {};
    return readInput(stream ?? process.stdin, onData, onQuit);
  };
}

function readInput(stream: NodeJS.ReadStream, onData: (bytes: Uint8Array) => void, onQuit: () => void): () => void {
  const tty = stream.isTTY === true && typeof stream.setRawMode === 'function';
  if (tty) stream.setRawMode(true);
  const filter = tty ? new ConsoleEscapeFilter() : undefined;
  let quit = false;
  const onChunk = (d: Buffer | string): void => {
    if (quit) return;
    const bytes = typeof d === 'string' ? new TextEncoder().encode(d) : new Uint8Array(d);
    if (!filter) { onData(bytes); return; }
    const r = filter.feed(bytes);
    if (r.bytes.length > 0) onData(r.bytes);
    if (r.quit) { quit = true; onQuit(); }
  };
  stream.on('data', onChunk);
  stream.on('error', () => {});
  stream.resume();
  return () => {
    stream.off('data', onChunk);
    if (tty) {
      try { stream.setRawMode(false); } catch { /* terminal gone */ }
    }
    stream.pause();
  };
}
