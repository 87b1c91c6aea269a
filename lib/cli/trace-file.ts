/**
 * `--trace FILE`: every vCPU exit as one JSON object per line (lib/vmm/exit-trace.ts). Lines are
 * buffered and written synchronously in blocks, so a guest making hundreds of thousands of exits
 * costs a write per block, not per exit, and nothing is lost when the process exits right after
 * the guest ends (close() flushes).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const FLUSH_AT = 256 * 1024;

export class TraceFile {
  private fd: number | undefined;
  private parts: string[] = [];
  private size = 0;
  lines = 0;

  /** Opens (truncates) `path`; throws the fs error when it cannot. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
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
    if (this.fd === undefined || this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
