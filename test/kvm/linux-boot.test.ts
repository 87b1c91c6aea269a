/**
 * Debian trixie's riscv64 Linux end to end on REAL KVM through the Machine API (issue 4,
 * "End-to-end"): the kernel, initramfs and disk from scripts/e2e/build-initramfs.sh boot on the
 * 'kvm' backend to the init marker, the init talks over the UART, reads the virtio-blk disk and
 * powers off through SBI SRST; a second boot takes the reboot path (the machine's default policy
 * closes the VM and boots a fresh one); a third reads kernel and initrd from their files and talks
 * over a virtio console (/dev/hvc0).
 *
 * Runs inside the nested rig (npm run test:kvm ships .cache/e2e in the payload). Under QEMU TCG
 * with the H extension every guest instruction goes through two-stage translation, so a boot is
 * tens of seconds; the times are printed. Skipped with the reason in the title when the artifacts
 * are absent or there is no riscv64 /dev/kvm (every non-riscv64 host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { ImageFile } from '../../lib/boot/image-file.js';
import { Machine, type MachineEnd } from '../../lib/vmm/machine.js';
import { describeKvm } from '../support/backends.js';
import { expectCleanE2eBoot } from '../support/e2e-transcript.js';
import { repoRoot } from '../support/paths.js';

const E2E_DIR = join(repoRoot(), '.cache', 'e2e');
const ARTIFACTS = ['Image', 'initramfs.cpio', 'disk.img'] as const;
const missing = ARTIFACTS.filter((f) => !existsSync(join(E2E_DIR, f)));

/** A hang bound, not a speed claim: nested KVM under TCG on a busy 2-core host. */
const BOOT_BUDGET_MS = 240_000;
const CMDLINE = 'console=ttyS0 quiet cryptomgr.notests';
const MARKER = 'KVM-RISCV-E2E: init running';

/** Deterministic rng-seed and virtio-rng bytes, as in the emulator's e2e test. */
const fixedEntropy = (b: Uint8Array): void => { for (let i = 0; i < b.length; i++) b[i] = (i * 37 + 11) & 0xff; };

const seconds = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** Console text of a run plus the time (from start) each occurrence of MARKER appeared. */
function watchConsole(m: Machine, started: number, onText?: (text: string) => void): { text: () => string; markerTimes: number[] } {
  let out = '';
  const markerTimes: number[] = [];
  m.on('console', (b) => {
    const before = out.length;
    out += Buffer.from(b).toString('latin1');
    // Count markers that end inside the new bytes (a marker may straddle two chunks).
    let at = out.indexOf(MARKER, Math.max(0, before - MARKER.length + 1));
    while (at !== -1) {
      markerTimes.push(performance.now() - started);
      at = out.indexOf(MARKER, at + MARKER.length);
    }
    onText?.(out);
  });
  return { text: () => out, markerTimes };
}

const title = missing.length
  ? `Linux (Debian trixie riscv64) on KVM (skipped: ${missing.join(', ')} missing in ${E2E_DIR}; run scripts/e2e/build-initramfs.sh, npm run test:kvm ships them)`
  : 'Linux (Debian trixie riscv64) on KVM';

describe.skipIf(missing.length > 0)(title, () => {
  let kernel: Uint8Array;
  let initrd: Uint8Array;
  beforeAll(() => {
    kernel = new Uint8Array(readFileSync(join(E2E_DIR, 'Image')));
    initrd = new Uint8Array(readFileSync(join(E2E_DIR, 'initramfs.cpio')));
  });

  describeKvm((backend) => {
    let hv: Hypervisor;
    beforeAll(() => { hv = backend.open(); });
    afterAll(() => hv?.close());

    it('boots 2 harts to the init marker, talks over the UART, reads the virtio disk and shuts down through SRST', async () => {
      const started = performance.now();
      const m = new Machine({
        backend: hv, memorySize: 256 << 20, vcpus: 2, kernel, initrd, cmdline: CMDLINE,
        disks: [{ path: join(E2E_DIR, 'disk.img'), readonly: true }],
        entropy: fixedEntropy, timeoutMs: BOOT_BUDGET_MS,
      });
      let answered = false;
      const con = watchConsole(m, started, (out) => {
        if (!answered && out.includes('type a line:')) { answered = true; m.sendInput('hello from the host\n'); }
      });
      await m.start();
      expect(m.backend).toBe('kvm');
      const end: MachineEnd = await m.done;
      const total = performance.now() - started;
      const out = con.text();
      console.log(`kvm Linux boot: init marker after ${seconds(con.markerTimes[0])}, powered off after ${seconds(total)}, ${m.statistics.total} exits to user space`);
      expect(end, out).toMatchObject({ kind: 'shutdown', srstReason: 0n, reboots: 0 });
      expect(con.markerTimes).toHaveLength(1);
      expectCleanE2eBoot(out, m.statistics.byReason);
    }, BOOT_BUDGET_MS + 30_000);

    it('reboot -f restarts the machine on a fresh VM, which boots to the marker again', async () => {
      const started = performance.now();
      const m = new Machine({
        backend: hv, memorySize: 256 << 20, vcpus: 1, kernel, initrd, cmdline: `${CMDLINE} e2e.reboot`,
        entropy: fixedEntropy, timeoutMs: BOOT_BUDGET_MS, reboot: { policy: 'restart', maxReboots: 1 },
      });
      const restarts: number[] = [];
      m.on('restart', (n) => restarts.push(n));
      const con = watchConsole(m, started);
      await m.start();
      const end: MachineEnd = await m.done;
      const out = con.text();
      console.log(`kvm Linux reboot path: markers at ${con.markerTimes.map(seconds).join(', ')}, ended after ${seconds(performance.now() - started)}`);
      // Both boots run /init, which reboots each time: the second reboot is past maxReboots and
      // ends the machine with kind 'reboot'.
      expect(end, out).toMatchObject({ kind: 'reboot', reboots: 1 });
      expect(restarts).toEqual([1]);
      expect(con.markerTimes).toHaveLength(2);
      expect(out.split('KVM-RISCV-E2E: rebooting').length - 1).toBe(2);
      // SRST warm/cold reboot (SBI v2.0 §10.1): Linux's `reboot -f` asks for a cold reboot, reason 0.
      expect(end.srstReason).toBe(0n);
    }, BOOT_BUDGET_MS + 30_000);

    it('kernel and initrd read from their files (ImageFile); a virtio console carries /dev/hvc0 both ways', async () => {
      const started = performance.now();
      // e2e.hvc: /init loads virtio_mmio, prompts on /dev/hvc0, reads one line there and echoes it.
      const m = new Machine({
        backend: hv, memorySize: 256 << 20, vcpus: 1, cmdline: `${CMDLINE} e2e.hvc`, console: 'virtio',
        kernel: new ImageFile(join(E2E_DIR, 'Image')), initrd: new ImageFile(join(E2E_DIR, 'initramfs.cpio')),
        entropy: fixedEntropy, timeoutMs: BOOT_BUDGET_MS,
      });
      let answered = false;
      const con = watchConsole(m, started, (out) => {
        if (!answered && out.includes('hvc0 type a line:')) { answered = true; m.sendInput('hello over virtio\n'); }
      });
      await m.start();
      const end: MachineEnd = await m.done;
      const out = con.text();
      console.log(`kvm Linux virtio console: marker after ${seconds(con.markerTimes[0])}, ended after ${seconds(performance.now() - started)}`);
      expect(end, out).toMatchObject({ kind: 'shutdown', srstReason: 0n });
      expect(out).toContain('KVM-RISCV-E2E: hvc0 read [hello over virtio]');
    }, BOOT_BUDGET_MS + 30_000);
  });
});
