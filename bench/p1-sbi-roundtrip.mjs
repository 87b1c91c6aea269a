// P1 (project issue 2): round trip of an experimental-range SBI call through a JS handler and back
// into the guest, on real KVM. Run inside the nested rig by scripts/rig/run-bench-p1.sh, after the C
// reference bench/p1/c-reference.c ran the same guest (bench/guest/p1-loop.S) in the same boot:
// under nested TCG only ratios within one boot mean anything.
//
// Paths (what an application would use):
//   run     — await vcpu.run(): KVM_RUN on the vCPU's own native thread, the exit delivered
//             through the event loop (runPollMicros 0, the default), the promise resolved, the
//             handler answering with setSbiReturn().
//   run-poll100us, run-poll10ms — the same with runPollMicros = 100 / 10000: run() waits that long
//             on the JS thread for the exit before leaving it to the event loop.
//   runSync — vcpu.runSync() on the main thread: KVM_RUN on the calling thread.
//   worker  — vcpu.runSync() inside a worker_thread (the way to keep the main thread free while
//             still running synchronously), timed inside the worker.
// Diagnostics (where the time goes; not candidates for the P1 figure):
//   c-in-node — the C reference's loop run by the addon inside this process (benchSbiLoop): the
//             Node process itself, with no JS between exits.
//   native  — the addon's runSync() with the exit read and answered through a DataView, no
//             TypeScript layer: the floor for any JS path.
//   napi    — an empty N-API call (a getter on the native vCPU): the fixed cost of crossing into
//             the addon once.
//   decode  — decodeExit() + setSbiReturn() on the kvm_run page without KVM_RUN: the TS layer alone.
//
// Usage: node bench/p1-sbi-roundtrip.mjs <p1-loop.bin> <calls> [c_us_per_exit] [repeats]
// Prints one JSON line per path and diagnostic; the LAST line is the fastest path with every
// path's ratio to C: {"metric":"P1","path":..,"us_per_exit":..,"c_us_per_exit":..,"ratio":..,"paths":{..}}
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openKvm } = await import(join(root, 'dist/lib/backend/kvm/index.js'));
const { probeKvm } = await import(join(root, 'dist/lib/backend/kvm/loader.js'));
const { decodeExit, writeSbiReturn } = await import(join(root, 'dist/lib/backend/kvm/exit-decoder.js'));
const { regId } = await import(join(root, 'dist/lib/abi/regs.js'));
const { KVM_RUN_OFF: OFF, KVM_EXIT_RISCV_SBI, KVM_EXIT_SYSTEM_EVENT } = await import(join(root, 'dist/lib/abi/kvm.js'));

const RAM = 0x80000000n;
const LOAD = RAM + 0x200000n;
const RAM_SIZE = 4 << 20;
const EID_EXPERIMENTAL = 0x08000000;

function setup(hv, image, calls) {
  const vm = hv.createVm();
  const mem = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM, size: RAM_SIZE });
  mem.writeBytes(LOAD, image);
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(regId('core.pc'), LOAD);
  vcpu.setReg(regId('core.a0'), BigInt(calls));
  return { vm, vcpu };
}

/** The guest's own totals (a2 = sum of the replies' a1, a3 = calls made) prove every reply arrived. */
function check(getReg, calls, exits) {
  const made = getReg(regId('core.a3'));
  if (made !== BigInt(calls) || exits !== calls) throw new Error(`guest made ${made} calls, ${exits} exits seen; expected ${calls}`);
  const sum = getReg(regId('core.a2'));
  const want = (BigInt(calls) * BigInt(calls + 1)) / 2n;
  if (sum !== want) throw new Error(`guest sum ${sum}, expected ${want}: replies did not arrive`);
}

function unexpected(exit) {
  return new Error(`unexpected exit ${JSON.stringify(exit, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

async function runPath(hv, image, calls, pollMicros) {
  const { vm, vcpu } = setup(hv, image, calls);
  if (pollMicros !== undefined) vcpu.runPollMicros = pollMicros;
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
    throw unexpected(exit);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  check((id) => vcpu.getReg(id), calls, exits);
  vm.close();
  return ns / 1e3 / exits;
}

function runSyncPath(hv, image, calls) {
  const { vm, vcpu } = setup(hv, image, calls);
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
    throw unexpected(exit);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  check((id) => vcpu.getReg(id), calls, exits);
  vm.close();
  return ns / 1e3 / exits;
}

/** The addon alone: KVM_RUN on this thread, the exit read and answered in place. */
function nativePath(_hv, image, calls) {
  const addon = probeKvm().addon;
  const sys = addon.openSystem('/dev/kvm');
  const vm = sys.createVm(0);
  new Uint8Array(vm.setMemoryRegion(0, 0, RAM, RAM_SIZE)).set(image, Number(LOAD - RAM));
  const vcpu = vm.createVcpu(0);
  const u64 = (v) => new Uint8Array(new BigUint64Array([v]).buffer);
  vcpu.setOneReg(regId('core.pc'), u64(LOAD));
  vcpu.setOneReg(regId('core.a0'), u64(BigInt(calls)));
  const run = new DataView(vcpu.runBuffer());
  let exits = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const err = vcpu.runSync();
    if (err !== 0) throw new Error(`KVM_RUN errno ${err}`);
    const reason = run.getUint32(OFF.exit_reason, true);
    if (reason === KVM_EXIT_RISCV_SBI && run.getUint32(OFF.riscv_sbi_extension_id, true) === EID_EXPERIMENTAL) {
      run.setBigUint64(OFF.riscv_sbi_ret, 0n, true);
      run.setBigUint64(OFF.riscv_sbi_ret + 8, run.getBigUint64(OFF.riscv_sbi_args, true) + 1n, true);
      exits++;
      continue;
    }
    if (reason === KVM_EXIT_SYSTEM_EVENT) break;
    throw new Error(`unexpected exit reason ${reason}`);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const getReg = (id) => {
    const b = new Uint8Array(8);
    vcpu.getOneReg(id, b);
    return new BigUint64Array(b.buffer)[0];
  };
  check(getReg, calls, exits);
  vm.close();
  sys.close();
  return ns / 1e3 / exits;
}

/** The C reference's loop inside this Node process (the addon's benchSbiLoop): what Node costs
 * without any JS between exits. */
function cInNodePath(_hv, image, calls) {
  const addon = probeKvm().addon;
  const sys = addon.openSystem('/dev/kvm');
  const vm = sys.createVm(0);
  new Uint8Array(vm.setMemoryRegion(0, 0, RAM, RAM_SIZE)).set(image, Number(LOAD - RAM));
  const vcpu = vm.createVcpu(0);
  const u64 = (v) => new Uint8Array(new BigUint64Array([v]).buffer);
  vcpu.setOneReg(regId('core.pc'), u64(LOAD));
  vcpu.setOneReg(regId('core.a0'), u64(BigInt(calls)));
  const t0 = process.hrtime.bigint();
  const exits = vcpu.benchSbiLoop(EID_EXPERIMENTAL);
  const ns = Number(process.hrtime.bigint() - t0);
  if (exits < 0) throw new Error(`KVM_RUN errno ${-exits}`);
  const getReg = (id) => {
    const b = new Uint8Array(8);
    vcpu.getOneReg(id, b);
    return new BigUint64Array(b.buffer)[0];
  };
  check(getReg, calls, exits);
  vm.close();
  sys.close();
  return ns / 1e3 / exits;
}

/** An empty crossing into the addon: the `closed` getter of a native vCPU, `calls` times. */
function napiPath(_hv, _image, calls) {
  const addon = probeKvm().addon;
  const sys = addon.openSystem('/dev/kvm');
  const vm = sys.createVm(0);
  const vcpu = vm.createVcpu(0);
  let open = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (!vcpu.closed) open++;
  const ns = Number(process.hrtime.bigint() - t0);
  if (open !== calls) throw new Error('vCPU closed under the loop');
  vm.close();
  sys.close();
  return ns / 1e3 / calls;
}

/** The TS layer's per-exit work on a kvm_run page that holds an SBI exit, without KVM_RUN. */
function decodePath(_hv, _image, calls) {
  const view = new DataView(new ArrayBuffer(4096));
  view.setUint32(OFF.exit_reason, KVM_EXIT_RISCV_SBI, true);
  view.setBigUint64(OFF.riscv_sbi_extension_id, BigInt(EID_EXPERIMENTAL), true);
  let sum = 0n;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    view.setBigUint64(OFF.riscv_sbi_args, BigInt(i), true);
    const exit = decodeExit(view);
    if (exit.reason !== 'sbi') throw unexpected(exit);
    writeSbiReturn(view, 0n, exit.args[0] + 1n);
    sum += view.getBigUint64(OFF.riscv_sbi_ret + 8, true);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sum !== (BigInt(calls) * BigInt(calls + 1)) / 2n) throw new Error('decode loop lost replies');
  return ns / 1e3 / calls;
}

/** A worker that runs runSyncPath() each time it is asked and answers with the µs per exit. */
function startWorker(image) {
  const w = new Worker(new URL(import.meta.url), { workerData: { image } });
  const waiting = [];
  w.on('message', (m) => waiting.shift()?.resolve(m));
  w.on('error', (e) => { for (const p of waiting.splice(0)) p.reject(e); });
  return {
    measure: (calls) => new Promise((resolve, reject) => { waiting.push({ resolve, reject }); w.postMessage(calls); }),
    close: () => w.terminate(),
  };
}

/** The C reference as a child process (same binary, same guest), so C is measured in every round
 * next to the JS paths, under the same load. */
function cReference(binary, binPath, calls) {
  const r = spawnSync(binary, [binPath, String(calls)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`c-reference exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout).us_per_exit;
}

const round = (x) => +x.toFixed(3);

if (!isMainThread) {
  const hv = openKvm();
  const image = Buffer.from(workerData.image);
  parentPort.on('message', (calls) => parentPort.postMessage(runSyncPath(hv, image, calls)));
} else {
  const [binPath, callsArg, cArg, repeatsArg] = process.argv.slice(2);
  if (!binPath) throw new Error('usage: p1-sbi-roundtrip.mjs <p1-loop.bin> <calls> [c_us_per_exit] [repeats]');
  const calls = Number(callsArg ?? 20000);
  const repeats = Number(repeatsArg ?? 3);
  if (!(Number.isInteger(calls) && calls > 0 && Number.isInteger(repeats) && repeats > 0)) throw new Error('calls and repeats must be positive integers');
  // P1_C_REFERENCE (the c-reference binary): C runs again in every round; its best figure and the
  // one passed on the command line (if any) make the C figure.
  const cBinary = process.env.P1_C_REFERENCE;
  const cCalls = Number(process.env.P1_C_CALLS ?? calls);
  const cRuns = cArg ? [Number(cArg)] : [];
  const image = readFileSync(binPath);
  const hv = openKvm();
  const worker = startWorker(image);

  const paths = {
    run: (n) => runPath(hv, image, n),
    'run-poll100us': (n) => runPath(hv, image, n, 100),
    'run-poll10ms': (n) => runPath(hv, image, n, 10_000),
    runSync: (n) => runSyncPath(hv, image, n),
    worker: (n) => worker.measure(n),
  };
  const diagnostics = {
    'c-in-node': (n) => cInNodePath(hv, image, n),
    native: (n) => nativePath(hv, image, n),
    napi: (n) => napiPath(hv, image, n * 10),
    decode: (n) => decodePath(hv, image, n * 10),
  };
  const all = { ...paths, ...diagnostics };
  const runs = Object.fromEntries(Object.keys(all).map((k) => [k, []]));
  // Warm-up (JIT tiers, page faults) on a quarter of the calls, then the rounds: every path once
  // per round, interleaved with C, so a burst of load on the machine hits all of them alike.
  for (const fn of Object.values(all)) await fn(Math.max(200, calls >> 2));
  for (let i = 0; i < repeats; i++) {
    if (cBinary) cRuns.push(cReference(cBinary, binPath, cCalls));
    for (const [name, fn] of Object.entries(all)) runs[name].push(await fn(calls));
  }
  await worker.close();
  hv.close();
  if (!cRuns.length) cRuns.push(NaN);
  const cUs = Math.min(...cRuns);
  const c = Number.isFinite(cUs) ? round(cUs) : null;
  console.log(JSON.stringify({ metric: 'P1', kind: 'c', path: 'c', us_per_exit: c, runs: cRuns.map(round), calls: cCalls }));
  const results = Object.entries(runs).map(([path, r]) => {
    const best = Math.min(...r);
    const kind = path in paths ? 'path' : 'diagnostic';
    const line = { metric: 'P1', kind, path, us_per_exit: round(best), runs: r.map(round), c_us_per_exit: c, ratio: c ? round(best / c) : null, calls };
    console.log(JSON.stringify(line));
    return line;
  });
  const candidates = results.filter((r) => r.kind === 'path').sort((a, b) => a.us_per_exit - b.us_per_exit);
  const { kind: _k, runs: _r, ...fastest } = candidates[0];
  console.log(JSON.stringify({ ...fastest, paths: Object.fromEntries(candidates.map((r) => [r.path, { us_per_exit: r.us_per_exit, ratio: r.ratio }])) }));
}
