// P1: round trip of an experimental-range SBI call through a JS handler and back into the guest,
// on real KVM (run inside the nested rig by scripts/rig/run-bench-p1.sh, after the C reference
// bench/p1/c-reference.c ran the same guest in the same boot).
//
// Paths measured:
//   async — vcpu.run(): KVM_RUN on the vCPU's own native thread, the exit delivered to the event
//           loop through a thread-safe function, the promise resolved, the handler answering.
//   sync  — vcpu.runSync(): KVM_RUN on the calling thread (what a worker_thread would do).
//
// Usage: node bench/p1-sbi-roundtrip.mjs <p1-loop.bin> <calls> [c_us_per_exit]
// Prints one JSON line per path; the last line is the fastest path with its ratio to C.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openKvm } = await import(join(root, 'dist/lib/backend/kvm/index.js'));
const { regId } = await import(join(root, 'dist/lib/abi/regs.js'));

const [binPath, callsArg, cArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 20000);
const cUs = cArg ? Number(cArg) : null;
const image = readFileSync(binPath);
const RAM = 0x80000000n;
const EID_EXPERIMENTAL = 0x08000000;

function setup(hv) {
  const vm = hv.createVm();
  const mem = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM, size: 4 << 20 });
  mem.writeBytes(RAM + 0x200000n, image);
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(regId('core.pc'), RAM + 0x200000n);
  vcpu.setReg(regId('core.a0'), BigInt(calls));
  return { vm, vcpu };
}

function check(vcpu, exits) {
  const made = vcpu.getReg(regId('core.a3'));
  if (made !== BigInt(calls) || exits !== calls) throw new Error(`guest made ${made} calls, ${exits} exits seen; expected ${calls}`);
  // sum of (seq + 1) for seq = 0..calls-1
  const sum = vcpu.getReg(regId('core.a2'));
  const want = BigInt(calls) * BigInt(calls + 1) / 2n;
  if (sum !== want) throw new Error(`guest sum ${sum}, expected ${want}: replies did not arrive`);
}

async function asyncPath(hv) {
  const { vm, vcpu } = setup(hv);
  let exits = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const exit = await vcpu.run();
    if (exit.reason === 'sbi' && exit.extensionId === EID_EXPERIMENTAL) {
      vcpu.setSbiReturn(0, exit.args[0] + 1n);
      exits++;
      continue;
    }
    if (exit.reason === 'system_event') break;
    throw new Error(`unexpected exit ${JSON.stringify(exit, (_, v) => typeof v === 'bigint' ? v.toString() : v)}`);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  check(vcpu, exits);
  vm.close();
  return us / exits;
}

function syncPath(hv) {
  const { vm, vcpu } = setup(hv);
  let exits = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const exit = vcpu.runSync();
    if (exit.reason === 'sbi' && exit.extensionId === EID_EXPERIMENTAL) {
      vcpu.setSbiReturn(0, exit.args[0] + 1n);
      exits++;
      continue;
    }
    if (exit.reason === 'system_event') break;
    throw new Error(`unexpected exit ${exit.reason}`);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  check(vcpu, exits);
  vm.close();
  return us / exits;
}

const hv = openKvm();
// One short warm-up of each path (JIT, page faults), then the measured runs.
const results = [];
for (const [path, fn] of [['async', asyncPath], ['sync', syncPath]]) {
  await fn(hv);
  const us = await fn(hv);
  const r = { metric: 'P1', path, us_per_exit: +us.toFixed(3), c_us_per_exit: cUs, ratio: cUs ? +(us / cUs).toFixed(3) : null, calls };
  results.push(r);
  console.log(JSON.stringify(r));
}
hv.close();
results.sort((a, b) => a.us_per_exit - b.us_per_exit);
console.log(JSON.stringify({ ...results[0], paths: Object.fromEntries(results.map((r) => [r.path, r.ratio ?? r.us_per_exit])) }));
