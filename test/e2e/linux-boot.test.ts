// Debian trixie's riscv64 kernel booted end to end on the emulator through the Machine API and the
// CLI: the initramfs from scripts/e2e/build-initramfs.sh prints a marker, reads a console line
// over the UART, reads the first sector of a virtio-blk disk and powers off through SBI SRST; a
// second boot takes the reboot path, a third talks over a virtio console (/dev/hvc0). Skipped (with the reason in the test name's note) when the
// trixie packages cannot be fetched.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, type MachineEnd } from '../../lib/vmm/machine.js';
import { REPO_ROOT, spawnCli } from './cli-process.js';
import { expectCleanE2eBoot } from '../support/e2e-transcript.js';

const OUT = join(REPO_ROOT, '.cache', 'e2e');
/** A boot to the marker takes 20-30 s on an idle 2-core host (140 s seen with 4x CPU contention);
 * the budget bounds a hang, not the speed. */
const BOOT_BUDGET_MS = 360_000;
const CMDLINE = 'console=ttyS0 quiet cryptomgr.notests';

let skipReason: string | undefined;
let kernel: Uint8Array;
let initrd: Uint8Array;

beforeAll(() => {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'e2e', 'build-initramfs.sh'), OUT], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    skipReason = `scripts/e2e/build-initramfs.sh failed (trixie packages unavailable?): ${(r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' / ')}`;
    return;
  }
  kernel = new Uint8Array(readFileSync(join(OUT, 'Image')));
  initrd = new Uint8Array(readFileSync(join(OUT, 'initramfs.cpio')));
}, 600_000);

/** A deterministic entropy source: rng-seed and virtio-rng bytes are the same every run. */
const fixedEntropy = (b: Uint8Array): void => { for (let i = 0; i < b.length; i++) b[i] = (i * 37 + 11) & 0xff; };

describe('Linux (Debian trixie riscv64) on the emulator', () => {
  it('boots 2 harts to the init marker, talks over the UART, reads the virtio disk and shuts down through SRST', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const started = performance.now();
    const m = new Machine({
      backend: 'emulator', memorySize: 256 << 20, vcpus: 2, kernel, initrd, cmdline: CMDLINE,
      disks: [{ path: join(OUT, 'disk.img'), readonly: true }],
      entropy: fixedEntropy, timeoutMs: BOOT_BUDGET_MS,
    });
    let out = '';
    let markerAt: number | undefined;
    let answered = false;
    m.on('console', (b) => {
      out += Buffer.from(b).toString('latin1');
      if (markerAt === undefined && out.includes('KVM-RISCV-E2E: init running')) markerAt = performance.now() - started;
      if (!answered && out.includes('type a line:')) { answered = true; m.sendInput('hello from the host\n'); }
    });
    await m.start();
    expect(m.backend).toBe('emulator');
    const end: MachineEnd = await m.done;
    const total = performance.now() - started;
    console.log(`emulator Linux boot: init marker after ${((markerAt ?? NaN) / 1000).toFixed(1)} s, powered off after ${(total / 1000).toFixed(1)} s, ${m.statistics.total} exits`);
    expect(end, out).toMatchObject({ kind: 'shutdown', srstReason: 0n, reboots: 0 });
    expectCleanE2eBoot(out, m.statistics.byReason);
  }, BOOT_BUDGET_MS + 30_000);

  it('a virtio console (console: virtio) carries a Linux /dev/hvc0 prompt out and a typed line in', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    // e2e.hvc: /init loads virtio_mmio (Debian builds virtio_console in), prompts on /dev/hvc0,
    // reads one line there and echoes it, then powers off (scripts/e2e/build-initramfs.sh).
    const m = new Machine({
      backend: 'emulator', memorySize: 256 << 20, kernel, initrd, cmdline: `${CMDLINE} e2e.hvc`, console: 'virtio',
      entropy: fixedEntropy, timeoutMs: BOOT_BUDGET_MS,
    });
    let out = '';
    let answered = false;
    m.on('console', (b) => {
      out += Buffer.from(b).toString('latin1');
      if (!answered && out.includes('hvc0 type a line:')) { answered = true; m.sendInput('hello over virtio\n'); }
    });
    await m.start();
    const end = await m.done;
    expect(end, out).toMatchObject({ kind: 'shutdown', srstReason: 0n });
    // The prompt and the answer can only have come through the virtio console: /init writes them
    // to /dev/hvc0 alone, and the host's line reached the guest only through its receive queue.
    expect(out).toContain('KVM-RISCV-E2E: hvc0 read [hello over virtio]');
    expect(out).not.toContain('no /dev/hvc0');
  }, BOOT_BUDGET_MS + 30_000);

  it('CLI --time: realtime (the default) waits for a line typed 3 s late; deterministic skips the idle wait', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    // /init's `read -t 30` sleeps in the guest until input or its 30 s timer. In real time the line
    // typed after 3 s arrives first; in deterministic time the idle guest's clock jumps to its
    // next timer deadline, so the read times out long before 3 host seconds have passed.
    const boot = (time: string[]) => spawnCli([
      'run', '--kernel', join(OUT, 'Image'), '--initrd', join(OUT, 'initramfs.cpio'), '-m', '256M',
      '--append', CMDLINE, '--backend', 'emulator', ...time, '--no-stats', '--timeout', `${BOOT_BUDGET_MS / 1000}s`,
    ], { killAfterMs: BOOT_BUDGET_MS + 20_000, answer: { when: 'type a line:', text: 'late line\n', afterMs: 3000 } });
    const realtime = await boot([]);
    expect(realtime.code, realtime.stderr).toBe(0);
    expect(realtime.stdout).toContain('KVM-RISCV-E2E: console read [late line]');
    const deterministic = await boot(['--time', 'deterministic']);
    expect(deterministic.code, deterministic.stderr).toBe(0);
    expect(deterministic.stdout).toContain('KVM-RISCV-E2E: console read failed');
  }, 2 * BOOT_BUDGET_MS + 60_000);

  it('reboot -f with the installed bin (the CLI bundle) and --reboot exit ends with status 2 and the SRST reboot named', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const r = await spawnCli([
      'run', '--kernel', join(OUT, 'Image'), '--initrd', join(OUT, 'initramfs.cpio'), '-m', '256M',
      '--append', `${CMDLINE} e2e.reboot`, '--backend', 'emulator', '--reboot', 'exit', '--timeout', `${BOOT_BUDGET_MS / 1000}s`,
    ], { killAfterMs: BOOT_BUDGET_MS + 20_000, bin: true });
    expect(r.stdout).toContain('KVM-RISCV-E2E: rebooting');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/guest asked for a reboot/);
    // The exit-statistics table ends every run.
    expect(r.stderr).toMatch(/exit reason\s+count\s+share\n/);
    expect(r.stderr).toMatch(/^system_event\s+1\s/m);
  }, BOOT_BUDGET_MS + 30_000);
});
