/**
 * virtio-console (virtio v1.2 §5.3), a single port: VIRTIO_CONSOLE_F_MULTIPORT, _F_SIZE and
 * _F_EMERG_WRITE are not offered, so only receiveq0 (queue 0, device → driver) and transmitq0
 * (queue 1, driver → device) exist and the config space fields are unused (read as 0, §5.3.4).
 *
 * Host input waits in a bounded queue until the driver posts receive buffers; transmitted bytes go
 * to the injected sink. Linux binds it as /dev/hvc0.
 */
import { VIRTIO_ID_CONSOLE } from './spec.js';
import type { VirtioDevice, VirtioQueueAccess } from './device.js';
import { gatherReadable } from './virtqueue.js';
import { scatter } from './scatter.js';
import { checkFunction, checkInputBytes, checkOptionsObject } from '../../option-checks.js';

const RECEIVEQ = 0;
const TRANSMITQ = 1;
const QUEUE_SIZE = 256;
/** §5.3.4: cols u16, rows u16, max_nr_ports u32, emerg_wr u32. */
const CONFIG_SIZE = 12;
/** Host bytes held for the guest before input() refuses more. */
export const CONSOLE_INPUT_LIMIT = 64 * 1024;
/** Largest single transmit buffer handed to the sink at once; a bigger chain is sent in pieces
 * so a guest cannot make the host allocate its whole RAM for one write. */
const TX_CHUNK = 64 * 1024;

export interface VirtioConsoleOptions {
  /** Receives what the guest writes to hvc0. Absent (undefined): the output is dropped, as for a
   * console nobody reads; anything else that is not a function is refused. */
  sink?: (data: Uint8Array) => void;
}

export interface VirtioConsoleSnapshot {
  /** Host input not yet delivered to the guest. */
  pendingInput: number[];
}

export class VirtioConsole implements VirtioDevice<VirtioConsoleSnapshot> {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly kind = 'console';
  readonly features = 0n;
  readonly queueMaxSizes = [QUEUE_SIZE, QUEUE_SIZE];
  private readonly sink: (data: Uint8Array) => void;
  private pending: number[] = [];
  private kick: () => void = () => {};

  constructor(opts: VirtioConsoleOptions = {}) {
    // Checked here: the sink is first called when the guest transmits, which must not be where a
    // bad option shows up.
    checkOptionsObject('VirtioConsole', opts);
    checkFunction('VirtioConsole', 'sink', opts.sink, true);
    this.sink = opts.sink ?? (() => {});
  }

  attach(kick: () => void): void {
    this.kick = kick;
  }

  /** Host → guest bytes (a Uint8Array or byte values 0-255; anything else is refused before a byte
   * is queued); returns how many were accepted (fewer only past the input limit). */
  input(data: Uint8Array | readonly number[]): number {
    checkInputBytes('VirtioConsole.input', data);
    const n = Math.max(0, Math.min(data.length, CONSOLE_INPUT_LIMIT - this.pending.length));
    for (let i = 0; i < n; i++) this.pending.push(data[i]! & 0xff);
    if (n > 0) this.kick();
    return n;
  }

  get pendingInput(): number {
    return this.pending.length;
  }

  readConfig(offset: number, size: number): number {
    void offset; void size; void CONFIG_SIZE;
    return 0;
  }

  writeConfig(): void {
    // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, not offered: ignored.
  }

  queueNotify(index: number, io: VirtioQueueAccess): void {
    if (index === TRANSMITQ) this.transmit(io);
    else if (index === RECEIVEQ) this.poll(io);
  }

  private transmit(io: VirtioQueueAccess): void {
    const q = io.queue(TRANSMITQ);
    let used = false;
    for (let chain = q.pop(io.memory); chain; chain = q.pop(io.memory)) {
      for (let off = 0; off < chain.readableLength; off += TX_CHUNK) {
        this.sink(gatherReadable(io.memory, chain, TX_CHUNK, off));
      }
      q.push(io.memory, chain, 0);
      used = true;
    }
    if (used) io.notifyUsed(TRANSMITQ);
  }

  /** Fills posted receive buffers with pending host input. */
  poll(io: VirtioQueueAccess): void {
    const q = io.queue(RECEIVEQ);
    if (!q.ready) return;
    let used = false;
    while (this.pending.length > 0) {
      const chain = q.pop(io.memory);
      if (!chain) break;
      const n = Math.min(chain.writableLength, this.pending.length);
      const written = scatter(io.memory, chain.writable, Uint8Array.from(this.pending.slice(0, n)));
      this.pending.splice(0, written);
      q.push(io.memory, chain, written);
      used = true;
    }
    if (used) io.notifyUsed(RECEIVEQ);
  }

  reset(): void {
    // Input typed before the driver (re)starts is kept: it is the host's, not the device's.
  }

  snapshot(): VirtioConsoleSnapshot {
    return { pendingInput: this.pending.slice() };
  }

  restore(s: VirtioConsoleSnapshot): void {
    if (!Array.isArray(s.pendingInput) || s.pendingInput.length > CONSOLE_INPUT_LIMIT
      || !s.pendingInput.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xff)) {
      throw new RangeError('virtio-console snapshot: pendingInput is not a byte list within the limit');
    }
    this.pending = s.pendingInput.slice();
  }
}
