/**
 * The terminal console's escape sequence, as QEMU's -nographic mux has it: Ctrl-A (0x01) followed
 * by 'x' quits, Ctrl-A Ctrl-A sends one Ctrl-A to the guest; Ctrl-A followed by anything else is
 * passed through unchanged (both bytes). A pure byte filter, so it is tested without a terminal;
 * a Ctrl-A at the end of one chunk pairs with the first byte of the next.
 */

export const ESCAPE_BYTE = 0x01;
export const QUIT_KEY = 0x78; // 'x'

export class ConsoleEscapeFilter {
  private pendingEscape = false;

  /** The bytes for the guest, and whether the user asked to quit (bytes after the quit are dropped). */
  feed(chunk: Uint8Array): { bytes: Uint8Array; quit: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.pendingEscape) {
        this.pendingEscape = false;
        if (b === QUIT_KEY || b === 0x58 /* 'X' */) return { bytes: Uint8Array.from(out), quit: true };
        if (b === ESCAPE_BYTE) out.push(ESCAPE_BYTE);
        else out.push(ESCAPE_BYTE, b);
      } else if (b === ESCAPE_BYTE) {
        this.pendingEscape = true;
      } else {
        out.push(b);
      }
    }
    return { bytes: Uint8Array.from(out), quit: false };
  }
}
