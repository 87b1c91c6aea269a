/**
 * Dirty logging (api.rst 4.8 KVM_GET_DIRTY_LOG): one bit per 4 KiB page written by the guest since
 * the last call; reading the log clears it. Writes by user space are not guest writes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { describeBackends } from '../support/backends.js';
import { runToReport, runUntil, withProgram } from '../support/guest.js';

const DIRTY_BASE = 0x90000000n; // guest/src/dirty.S
const PAGES = 16;

/** The page numbers whose bits are set. */
function dirtyPages(log: Uint8Array): number[] {
  const pages: number[] = [];
  log.forEach((byte, i) => { for (let b = 0; b < 8; b++) if (byte & (1 << b)) pages.push(i * 8 + b); });
  return pages;
}

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('reports exactly the pages the guest wrote, per interval', async () => {
    await withProgram(hv, 'dirty', {}, async (p) => {
      const slot = p.vm.setMemoryRegion({ slot: 1, guestPhysAddr: DIRTY_BASE, size: PAGES * 4096, logDirty: true });
      slot.write32(DIRTY_BASE + 9n * 4096n, 0x1234); // user space write: not logged
      expect(dirtyPages(p.vm.getDirtyLog(1))).toEqual([]);

      await runToReport(p.vcpu);
      const first = p.vm.getDirtyLog(1);
      expect(first.length).toBeGreaterThanOrEqual(PAGES / 8);
      expect(dirtyPages(first)).toEqual([0, 3, 5]);
      expect(slot.read64(DIRTY_BASE)).toBe(0xd1d2d3d4d5d6d7d8n);
      expect(slot.read8(DIRTY_BASE + 6n * 4096n - 1n)).toBe(0xd8);
      expect(dirtyPages(p.vm.getDirtyLog(1))).toEqual([]); // reading cleared it

      p.vcpu.setSbiReturn(0, 0);
      await runToReport(p.vcpu);
      expect(dirtyPages(p.vm.getDirtyLog(1))).toEqual([0, 7]);
      p.vcpu.setSbiReturn(0, 0);
      const rest = await runUntil(p.vcpu);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });

  it('getDirtyLog of a slot without logDirty, or of no slot, throws', async () => {
    await withProgram(hv, 'dirty', {}, (p) => {
      expect(() => p.vm.getDirtyLog(0)).toThrow();
      expect(() => p.vm.getDirtyLog(5)).toThrow();
    });
  });
});
