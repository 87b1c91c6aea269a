/**
 * Runs build/guest.elf with the host service on the default backend (KVM on a riscv64 host, else
 * the emulator):
 *   bash examples/vendor-hypercall/build.sh
 *   node --import ./scripts/ts-loader.mjs examples/vendor-hypercall/run.ts [--backend emulator]
 * The guest's report goes to stdout; the exit status is 0 when every check in the guest passed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Machine, type MachineEnd } from '../../lib/vmm/machine.js';
import type { BackendChoice } from '../../lib/vmm/select-backend.js';
import { hostService } from './host-service.js';

export async function runExample(opts: { backend?: BackendChoice; onConsole?: (bytes: Uint8Array) => void } = {}): Promise<MachineEnd> {
  const kernel = readFileSync(fileURLToPath(new URL('./build/guest.elf', import.meta.url)));
  const machine = new Machine({
    backend: opts.backend ?? 'auto',
    memorySize: 16 << 20,
    kernel,
    sbiExtensions: [hostService()],
    timeoutMs: 30_000,
  });
  machine.on('console', opts.onConsole ?? ((b) => process.stdout.write(b)));
  await machine.start();
  return machine.done;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--backend');
  const end = await runExample({ backend: i > 0 ? (process.argv[i + 1] as BackendChoice) : 'auto' });
  process.stderr.write(`guest ended: ${end.kind}${end.reason ? ` (${end.reason})` : ''}\n`);
  process.exitCode = end.kind === 'shutdown' && end.srstReason === 0n ? 0 : 1;
}
