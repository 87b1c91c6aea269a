// P2's emulator side, run by bench/p2-mips.ts as a child process on the built library (dist/), so
// that its memory figure is the VMM's alone: in-process, the benchmark's TypeScript loader
// (scripts/ts-loader.mjs: a loader thread with its own V8 isolate) added ~25 MiB to the RSS.
//   node bench/p2-emulate.mjs <program.bin> <ram bytes> <runs>
// Runs the flat program `runs` times, each on a fresh VM (the first runs warm V8's tiers up), and
// prints one JSON line per run: {"seconds","instret","checksum"}. After the last run, with that
// VM still open, it prints {"measure":true} and waits for a line on stdin: the parent samples this
// process's memory then (bench/host-memory.ts), and the VM is closed afterwards.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createEmulator } from '../dist/lib/backend/emulator/index.js';
import { regId } from '../dist/lib/abi/regs.js';

const [bin, ramArg, runsArg] = process.argv.slice(2);
const ramBytes = Number(ramArg);
const runs = Number(runsArg);
if (!bin || !Number.isInteger(ramBytes) || !(runs >= 1)) throw new Error('usage: p2-emulate.mjs <program.bin> <ram bytes> <runs>');
const program = readFileSync(bin);

for (let run = 0; run < runs; run++) {
  const hv = createEmulator();
  const vm = hv.createVm();
  const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x80000000n, size: ramBytes });
  ram.writeBytes(0x80200000n, program);
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(regId('core.pc'), 0x80200000n);
  const t0 = process.hrtime.bigint();
  const exit = await vcpu.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (exit.reason !== 'system_event' || exit.type !== 'shutdown') throw new Error(`unexpected exit ${exit.reason}`);
  // The guest leaves its own rdinstret and a checksum in a3/a2 at its final SRST call.
  const result = { seconds, instret: vcpu.getReg(regId('core.a3')).toString(), checksum: vcpu.getReg(regId('core.a2')).toString(16) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (run === runs - 1) {
    process.stdout.write(`${JSON.stringify({ measure: true })}\n`);
    process.stdin.resume();
    await once(process.stdin, 'data');
  }
  vm.close();
  hv.close();
}
process.exit(0);
