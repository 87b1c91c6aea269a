/**
 * The terminal side of the guest console for `kvm-riscv run`. When stdin is a TTY it goes into raw
 * mode (no line editing, no echo, Ctrl-C is a byte for the guest, as in QEMU -nographic) and
 * ConsoleEscapeFilter picks out Ctrl-A x to quit; raw mode is undone however the run ends. When
 * stdin is a pipe or file, bytes are passed through as they are.
 */
import type { HostInput } from './cli.js';
import { ConsoleEscapeFilter } from './console-escape.js';

export function terminalInput(stream: NodeJS.ReadStream = process.stdin): HostInput {
  return (onData, onQuit) => {
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
  };
}
