/**
 * virtio-rng / entropy device (virtio v1.2 §5.4): one request queue; the device fills each chain's
 * device-writable buffers with random bytes. No feature bits, no config space.
 */
import { hostRandomFill } from '../../host/entropy.js';
import { VIRTIO_ID_RNG } from './spec.js';
import type { VirtioDevice, VirtioQueueAccess } from './device.js';
import { scatter } from './scatter.js';
import { checkFunction, checkOptionsObject } from '../../option-checks.js';

const REQUESTQ = 0;
const QUEUE_SIZE = 64;
/** At most this many random bytes per chain: entropy requests are small (Linux asks for ≤ 64
 * bytes at a time); a huge buffer still gets a bounded answer and its used length says so. */
const MAX_BYTES_PER_REQUEST = 64 * 1024;

export interface VirtioRngOptions {
  /** Fills a buffer with random bytes; absent (undefined) means the host's CSPRNG
   * (host/entropy.ts). Inject for determinism. Anything else that is not a function is refused. */
  source?: (buffer: Uint8Array) => void;
}

export type VirtioRngSnapshot = Record<string, never>;

export class VirtioRng implements VirtioDevice<VirtioRngSnapshot> {
  readonly deviceId = VIRTIO_ID_RNG;
  readonly kind = 'rng';
  readonly features = 0n;
  readonly queueMaxSizes = [QUEUE_SIZE];
  private readonly source: (buffer: Uint8Array) => void;

  constructor(opts: VirtioRngOptions = {}) {
    // Checked here: the source is first called at the guest's first entropy request.
    checkOptionsObject('VirtioRng', opts);
    checkFunction('VirtioRng', 'source', opts.source, true);
    this.source = opts.source ?? hostRandomFill;
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  queueNotify(index: number, io: VirtioQueueAccess): void {
    if (index !== REQUESTQ) return;
    const q = io.queue(REQUESTQ);
    let used = false;
    for (let chain = q.pop(io.memory); chain; chain = q.pop(io.memory)) {
      const bytes = new Uint8Array(Math.min(chain.writableLength, MAX_BYTES_PER_REQUEST));
      this.source(bytes);
      q.push(io.memory, chain, scatter(io.memory, chain.writable, bytes));
      used = true;
    }
    if (used) io.notifyUsed(REQUESTQ);
  }

  reset(): void {}

  snapshot(): VirtioRngSnapshot {
    return {};
  }

  restore(): void {}
}
