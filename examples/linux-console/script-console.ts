/**
 * Scripting a Linux guest's console from TypeScript: boot Debian trixie's kernel with the e2e
 * initramfs (scripts/e2e/build-initramfs.sh), wait for the guest's prompt, answer it, collect the
 * lines it prints, and learn how it ended.
 *
 *   bash scripts/e2e/build-initramfs.sh
 *   node --import ./scripts/ts-loader.mjs examples/linux-console/script-console.ts [--backend emulator] [--smp 2]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../lib/vmm/machine.js';
import type { BackendChoice } from '../../lib/vmm/select-backend.js';

const out = fileURLToPath(new URL('../../.cache/e2e/', import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const machine = new Machine({
  backend: (arg('--backend') ?? 'auto') as BackendChoice,
  vcpus: Number(arg('--smp') ?? 1),
  memorySize: 256 << 20,
  kernel: readFileSync(`${out}Image`),
  initrd: readFileSync(`${out}initramfs.cpio`),
  cmdline: 'console=ttyS0 quiet cryptomgr.notests',
  disks: [{ path: `${out}disk.img`, readonly: true }],
  timeoutMs: 10 * 60_000,
});

// A line-oriented view of the console: react to what the guest prints.
const started = performance.now();
let pending = '';
machine.on('console', (bytes) => {
  pending += Buffer.from(bytes).toString('utf8');
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).replace(/\r$/, '');
    pending = pending.slice(nl + 1);
    if (line.startsWith('KVM-RISCV-E2E:')) console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
    if (line.endsWith('type a line:')) machine.sendInput(`hello from ${machine.backend}\n`);
  }
});
machine.on('system', (e) => console.log(`system event: ${e.type}`));

await machine.start();
console.log(`booting on the ${machine.backend} backend`);
const end = await machine.done;
console.log(`guest ended: ${end.kind}${end.reason ? ` (${end.reason})` : ''}; ${machine.statistics.total} exits`);
process.exitCode = end.kind === 'shutdown' && end.srstReason === 0n ? 0 : 1;
