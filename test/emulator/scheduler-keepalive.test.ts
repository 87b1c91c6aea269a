/**
 * A run() blocked in wfi with nothing that could ever wake it (no timer armed, no interrupt) keeps
 * the Node process alive, as a pending KVM_RUN does on the KVM backend (the addon refs its
 * thread-safe function while the vCPU thread is in the ioctl): a script awaiting run() must not
 * be ended by an empty event loop. stop() releases it, and then the process ends by itself.
 * Each case runs in a child process, since "the process ends" is what is observed.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A guest whose first instruction is wfi (0x10500073), then `j .`; interrupts stay disabled. */
function script(stopAfterMs: number | null): string {
  return `
    import { createEmulator } from ${JSON.stringify(join(REPO, 'lib/backend/emulator/index.ts'))};
    import { REG_PC } from ${JSON.stringify(join(REPO, 'lib/abi/regs.ts'))};
    const hv = createEmulator();
    const vm = hv.createVm();
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x80000000n, size: 65536 });
    ram.write32(0x80000000n, 0x10500073);
    ram.write32(0x80000004n, 0x0000006f);
    const v = vm.createVcpu(0);
    v.setReg(REG_PC, 0x80000000n);
    ${stopAfterMs === null ? '' : `setTimeout(() => v.stop(), ${stopAfterMs});`}
    const exit = await v.run();
    console.log('EXIT ' + exit.reason);
  `;
}

/** Runs the script; resolves with its exit code and output, or 'alive' if it still runs after `waitMs`. */
function runChild(source: string, waitMs: number): Promise<{ alive: boolean; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', join(REPO, 'scripts/ts-loader.mjs'), '--input-type=module', '-e', source], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve({ alive: true, code: null, out }); }, waitMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ alive: false, code, out }); });
  });
}

describe('a run() blocked in wfi with no wake-up source', () => {
  it('keeps the process alive (nothing else holds the event loop)', async () => {
    const r = await runChild(script(null), 4000);
    expect(r.out).not.toContain('EXIT');
    expect(r.alive).toBe(true);
  }, 20_000);

  it('ends with interrupted on stop(), after which the process exits on its own', async () => {
    const r = await runChild(script(300), 15_000);
    expect(r.alive).toBe(false);
    expect(r.code).toBe(0);
    expect(r.out).toContain('EXIT interrupted');
  }, 20_000);
});
