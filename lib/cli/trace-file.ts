/**
 * `--trace FILE`: every vCPU exit as one JSON object per line (lib/vmm/exit-trace.ts). Lines are
 * buffered and written synchronously in blocks, so a guest making hundreds of thousands of exits
 * costs a write per block, not per exit, and nothing is lost when the process exits right after
 * the guest ends (close() flushes).
 *
 * The file is opened early (so a bad path is a usage problem reported before the guest runs) but
 * without truncating it: begin() empties it once the machine has started, and discard() removes it
 * again if this run created it. A run that fails to start therefore leaves an earlier trace
 * untouched and no empty file behind.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';

const FLUSH_AT = 256 * 1024;

export class TraceFile {
  private fd: number | undefined;
  private parts: string[] = [];
  private size = 0;
  private begun = false;
  private readonly created: boolean;
  lines = 0;

  /** Opens (creating, not truncating) `path`; throws the fs error when it cannot. */
  constructor(readonly path: string) {
    this.created = !existsSync(path);
    this.fd = openSync(path, 'a');
  }

  /** The run has started: empty the file (a regular one; /dev/null and pipes have nothing to cut). */
  begin(): void {
    if (this.fd === undefined || this.begun) return;
    if (fstatSync(this.fd).isFile()) ftruncateSync(this.fd, 0);
    this.begun = true;
    if (this.size >= FLUSH_AT) this.flush();
  }

  /** The run never started: close, and remove the file if this run created it. */
  discard(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.parts = [];
    if (this.created) {
      try { unlinkSync(this.path); } catch { /* already gone */ }
    }
  }

  writeRecord(record: unknown): void {
    if (this.fd === undefined) return;
    const line = JSON.stringify(record) + '\n';
    this.parts.push(line);
    this.size += line.length;
    this.lines++;
    if (this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    // Nothing reaches the file before begin(): it still holds whatever it held.
    if (this.fd === undefined || !this.begun || this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.begin();
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
