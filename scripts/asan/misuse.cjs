'use strict';
// Addon misuse on this host's /dev/kvm (project issue 6, "addon misuse under AddressSanitizer").
//
//   node --expose-gc scripts/asan/misuse.cjs ADDON.node
//
// Meant to run under scripts/asan/run.sh (an ASan build of the addon, node started with LD_PRELOAD
// of libasan), which counts the sanitizer's reports; this script checks the JS-visible half: every
// misuse gets the error the addon documents (lib/backend/kvm/native.d.ts: ERR_KVM_CLOSED,
// ERR_KVM_BUSY, TypeError, RangeError, errno errors) or is a documented no-op, and nothing hangs.
//
// The guests are a few bytes of x86 real-mode code at the reset vector (CS:IP f000:fff0, physical
// 0xfffffff0), so only the architecture-independent part of the addon is exercised; the riscv-only
// exits run in the rig. CommonJS on purpose: workers and child processes load it with `node -e`.
//
// Output: one line per check ("ok" / "FAIL"), then "misuse: N checks, M failed, K calls".
// Exit status 0 when every check passed.

const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const ADDON = process.argv[2];
if (!ADDON) {
  console.error('usage: node --expose-gc misuse.cjs ADDON.node');
  process.exit(2);
}
const addon = require(ADDON);
const gc = globalThis.gc;
if (typeof gc !== 'function') {
  console.error('misuse: run with node --expose-gc');
  process.exit(2);
}

const EINTR = 4;
const KVM_MEM_LOG_DIRTY_PAGES = 1;
const RESET_SLOT_BASE = 0xffff0000n;
const SPIN = [0xeb, 0xfe]; // jmp $
// mov byte [0x5000], 0x55 (no slot there: an MMIO exit), then jmp $
const MMIO_THEN_SPIN = [0xc6, 0x06, 0x00, 0x50, 0x55, 0xeb, 0xfe];
// A riscv register id (KVM_REG_RISCV | KVM_REG_SIZE_U64 | core pc): the right shape, refused by x86.
const RISCV_PC = 0x8030000002000000n;

let calls = 0;
const results = [];

/** A small VM: ROM at the reset vector running `code`, 8 KiB of dirty-logged RAM at 0, vCPU 0. */
function machine(code = SPIN) {
  const sys = addon.openSystem('/dev/kvm');
  const vm = sys.createVm(0);
  const rom = vm.setMemoryRegion(1, 0, RESET_SLOT_BASE, 0x10000);
  new Uint8Array(rom).set(code, 0xfff0);
  const ram = vm.setMemoryRegion(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 0x2000);
  const vcpu = vm.createVcpu(0);
  return { sys, vm, rom, ram, vcpu };
}

function closeAll(m) {
  m.vcpu.close();
  m.vm.close();
  m.sys.close();
}

class CheckFailed extends Error {}
function assert(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

/** fn() must throw an error accepted by `want` (a code string, or an Error class). */
function throws(fn, want, label) {
  calls++;
  let error;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert(error !== undefined, `${label}: did not throw (want ${describeWant(want)})`);
  assert(matches(error, want), `${label}: threw ${error && error.name}/${error && error.code}: ${error && error.message} (want ${describeWant(want)})`);
  return error;
}

function matches(e, want) {
  if (want === ERRNO) return isErrno(e);
  if (typeof want === 'string') return e instanceof Error && e.code === want;
  return e instanceof want;
}
const describeWant = (w) => (typeof w === 'string' ? w : w.name);
/** Errors carrying an errno from a syscall (NativeErrnoError). */
const ERRNO = 'errno';
const isErrno = (e) => e instanceof Error && typeof e.errno === 'number' && typeof e.syscall === 'string';

function noThrow(fn, label) {
  calls++;
  try {
    return fn();
  } catch (e) {
    throw new CheckFailed(`${label}: threw ${e && e.name}/${e && e.code}: ${e && e.message}`);
  }
}

function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`${label}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function fullGc() {
  for (let i = 0; i < 4; i++) {
    gc();
    await tick();
  }
}

async function check(name, fn) {
  // MISUSE_ONLY=text runs only the checks whose name contains it (for bisecting a report).
  if (process.env.MISUSE_ONLY && !name.includes(process.env.MISUSE_ONLY)) return;
  const t0 = performance.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok    ${name}${note ? ` (${note})` : ''} [${(performance.now() - t0).toFixed(0)} ms]`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}: ${e instanceof CheckFailed ? e.message : (e && e.stack) || e}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Every method of a closed handle.

// [method, args, expectation]: a code, or null for "allowed after close" (a documented no-op or a
// value that stays meaningful).
const SYSTEM_AFTER_CLOSE = [
  ['apiVersion', [], 'ERR_KVM_CLOSED'],
  ['checkExtension', [0], 'ERR_KVM_CLOSED'],
  ['vcpuMmapSize', [], 'ERR_KVM_CLOSED'],
  ['createVm', [0], 'ERR_KVM_CLOSED'],
  ['close', [], null],
];
const VM_AFTER_CLOSE = [
  ['checkExtension', [0], 'ERR_KVM_CLOSED'],
  ['setMemoryRegion', [2, 0, 0x100000n, 4096], 'ERR_KVM_CLOSED'],
  ['deleteMemoryRegion', [0], 'ERR_KVM_CLOSED'],
  ['getDirtyLog', [0, new Uint8Array(8)], 'ERR_KVM_CLOSED'],
  ['createVcpu', [1], 'ERR_KVM_CLOSED'],
  ['irqLine', [0, true], 'ERR_KVM_CLOSED'],
  ['createDevice', [0, true], 'ERR_KVM_CLOSED'],
  ['deviceAttr', [0, 3, 0, 0n, new Uint8Array(8)], 'ERR_KVM_CLOSED'],
  ['close', [], null],
];
const VCPU_AFTER_CLOSE = [
  ['runBuffer', [], null],
  ['getOneReg', [RISCV_PC, new Uint8Array(8)], 'ERR_KVM_CLOSED'],
  ['setOneReg', [RISCV_PC, new Uint8Array(8)], 'ERR_KVM_CLOSED'],
  ['getRegList', [], 'ERR_KVM_CLOSED'],
  ['run', [], 'ERR_KVM_CLOSED'],
  ['runSync', [], 'ERR_KVM_CLOSED'],
  ['setRunPoll', [10], null],
  ['benchSbiLoop', [0x08000000], 'ERR_KVM_CLOSED'],
  ['stop', [], null],
  ['interrupt', [0], 'ERR_KVM_CLOSED'],
  ['getMpState', [], 'ERR_KVM_CLOSED'],
  ['setMpState', [0], 'ERR_KVM_CLOSED'],
  ['close', [], null],
];

function everyMethodClosed(obj, table, what) {
  for (const [method, args, want] of table) {
    const label = `${what}.${method}() after close`;
    if (want) throws(() => obj[method](...args), want, label);
    else noThrow(() => obj[method](...args), label);
  }
  assert(obj.closed === true, `${what}.closed is ${obj.closed} after close`);
  return table.length;
}

async function closedHandles() {
  // Each handle closed on its own, in the order a careful caller would use.
  const m = machine();
  m.vcpu.close();
  let n = everyMethodClosed(m.vcpu, VCPU_AFTER_CLOSE, 'vcpu');
  m.vm.close();
  n += everyMethodClosed(m.vm, VM_AFTER_CLOSE, 'vm');
  m.sys.close();
  n += everyMethodClosed(m.sys, SYSTEM_AFTER_CLOSE, 'system');
  assert(typeof m.vcpu.id === 'number' && typeof m.vcpu.stopToken === 'number', 'id/stopToken unreadable after close');
  // The VM closed under its vCPU closes the vCPU too.
  const m2 = machine();
  m2.vm.close();
  n += everyMethodClosed(m2.vcpu, VCPU_AFTER_CLOSE, 'vcpu of a closed vm');
  m2.sys.close();
  return `${n} methods`;
}

async function closeOrders() {
  // /dev/kvm closed first: the VM has its own fd and keeps working (api.rst §4.2: the VM fd is
  // independent of the system fd).
  const a = machine(MMIO_THEN_SPIN);
  a.sys.close();
  assert(noThrow(() => a.vcpu.runSync(), 'runSync after system close') === 0, 'runSync after system close did not exit');
  a.vm.close();
  a.vcpu.close();
  // Double and triple close, every order.
  const orders = [
    ['vcpu', 'vm', 'sys'],
    ['vm', 'vcpu', 'sys'],
    ['sys', 'vm', 'vcpu'],
    ['sys', 'vcpu', 'vm'],
  ];
  for (const order of orders) {
    const m = machine();
    for (let round = 0; round < 3; round++) for (const k of order) noThrow(() => m[k].close(), `${k}.close() #${round + 1}`);
    assert(m.vcpu.closed && m.vm.closed && m.sys.closed, `not all closed after ${order.join(', ')}`);
  }
  return `${orders.length} orders x 3 closes`;
}

// ---------------------------------------------------------------------------------------------
// 2. Memory views after close and after GC.

function touchAll(u8, value) {
  // Write and read every byte: an unmapped or freed backing store faults (SEGV, reported by ASan).
  u8.fill(value);
  let sum = 0;
  for (let i = 0; i < u8.length; i += 64) sum += u8[i];
  return sum === value * Math.ceil(u8.length / 64);
}

async function viewsAfterClose() {
  const m = machine(MMIO_THEN_SPIN);
  const ram = new Uint8Array(m.ram);
  const rom = new Uint8Array(m.rom);
  const run = new Uint8Array(m.vcpu.runBuffer());
  assert(m.vcpu.runSync() === 0, 'the MMIO guest did not exit');
  assert(m.vm.deleteMemoryRegion(0) === true, 'deleteMemoryRegion(0) returned false');
  assert(m.vm.deleteMemoryRegion(0) === false, 'a second deleteMemoryRegion(0) did not return false');
  assert(touchAll(ram, 0x11), 'RAM view unreadable after its slot was deleted');
  m.vcpu.close();
  assert(touchAll(run, 0), 'kvm_run view unreadable after vcpu.close()');
  m.vm.close();
  assert(touchAll(rom, 0x22) && touchAll(ram, 0x33), 'slot views unreadable after vm.close()');
  assert(m.vcpu.runBuffer().byteLength === run.length, 'runBuffer() after close changed size');
  m.sys.close();
  assert(touchAll(run, 0x44), 'kvm_run view unreadable after system close');
  return `${ram.length + rom.length + run.length} bytes touched`;
}

function viewsOnly() {
  // Everything but the views becomes garbage when this returns: no close() at all.
  const m = machine(MMIO_THEN_SPIN);
  m.vcpu.runSync();
  return { ram: new Uint8Array(m.ram), run: new Uint8Array(m.vcpu.runBuffer()) };
}

async function viewsAfterGc() {
  const views = [];
  for (let i = 0; i < 8; i++) views.push(viewsOnly());
  await fullGc(); // the VMs, vCPUs and systems are collected; their finalizers close the fds
  let ok = true;
  for (const v of views) ok = touchAll(v.ram, 0x5a) && touchAll(v.run, 0) && ok;
  assert(ok, 'a view outlived by its VM object became unreadable after GC');
  views.length = 0;
  await fullGc(); // now the mappings themselves are unmapped by the buffers' finalizers
  // The reverse: views dropped while the VM lives. The VM holds its slots' memory, so a guest
  // writing RAM after the JS buffers are gone must still hit mapped memory.
  const m = machine([0xc6, 0x06, 0x00, 0x10, 0xaa, ...MMIO_THEN_SPIN]); // mov byte [0x1000], 0xaa first
  m.ram = m.rom = null;
  await fullGc();
  assert(m.vcpu.runSync() === 0, 'the guest did not reach its MMIO exit after the views were collected');
  const dirty = new Uint8Array(8);
  m.vm.getDirtyLog(0, dirty);
  assert(dirty[0] === 0b10, `dirty log ${dirty[0]} after the guest wrote page 1`);
  closeAll(m);
  return '8 VMs collected under live views; guest wrote RAM whose views were collected';
}

async function transferredMemory() {
  // Guest memory is an external ArrayBuffer: moving it (structuredClone transfer, postMessage)
  // must either be refused or leave the native mapping valid for the kernel.
  const m = machine([0xc6, 0x06, 0x00, 0x10, 0xaa, ...MMIO_THEN_SPIN]);
  let outcome;
  try {
    const moved = structuredClone(m.ram, { transfer: [m.ram] });
    outcome = `transferred (${moved.byteLength} bytes; original ${m.ram.byteLength})`;
  } catch (e) {
    outcome = `refused: ${e.name}`;
  }
  calls++;
  assert(m.vcpu.runSync() === 0, 'guest did not run after the transfer attempt');
  await fullGc();
  closeAll(m);
  await fullGc();
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// 3. Concurrency on one vCPU: run() while running, stop() during run().

async function concurrentRun() {
  const m = machine();
  const second = m.vm.createVcpu(1);
  const pending = m.vcpu.run();
  const other = second.run(); // two vCPUs of one VM in KVM_RUN at once is legal
  const busy = [
    ['run', []],
    ['runSync', []],
    ['benchSbiLoop', [1]],
    ['getOneReg', [RISCV_PC, new Uint8Array(8)]],
    ['setOneReg', [RISCV_PC, new Uint8Array(8)]],
    ['getRegList', []],
    ['getMpState', []],
    ['setMpState', [0]],
  ];
  for (let i = 0; i < 20; i++) for (const [method, args] of busy) throws(() => m.vcpu[method](...args), 'ERR_KVM_BUSY', `${method}() during run()`);
  // KVM_INTERRUPT is an async vCPU ioctl on riscv (no vCPU mutex), so the addon allows it while
  // running. On x86 it is not async: it would wait for the vCPU mutex that KVM_RUN holds and block
  // this thread until the guest exits, so it is only tried on a riscv64 build.
  if (addon.arch === 'riscv64') {
    calls++;
    try {
      m.vcpu.interrupt(0);
    } catch (e) {
      assert(isErrno(e), `interrupt() during run() threw ${e.name}: ${e.message}`);
    }
  }
  noThrow(() => m.vcpu.setRunPoll(5), 'setRunPoll during run');
  m.vcpu.stop();
  second.stop();
  assert((await withTimeout(pending, 2000, 'stopped run()')) === EINTR, 'run() after stop() did not answer EINTR');
  assert((await withTimeout(other, 2000, 'second vCPU run()')) === EINTR, 'second vCPU did not answer EINTR');
  // Close with runs pending on both vCPUs: both promises still answer.
  const p1 = m.vcpu.run();
  const p2 = second.run();
  await sleep(5);
  m.vm.close();
  const answers = await withTimeout(Promise.all([p1, p2]), 2000, 'runs pending at vm.close()');
  assert(answers.every((a) => a === EINTR), `runs pending at close answered ${answers}`);
  m.sys.close();
  return `${busy.length * 20} refused calls`;
}

async function stopDuringRun() {
  const m = machine();
  const timings = ['sync', 'microtask', 'immediate', '1ms', 'stopVcpu', 'before'];
  const counts = Object.fromEntries(timings.map((t) => [t, 0]));
  for (let i = 0; i < 240; i++) {
    const how = timings[i % timings.length];
    m.vcpu.setRunPoll(i % 12 < 6 ? 0 : 20);
    if (how === 'before') m.vcpu.stop(); // immediate_exit set before the run: it returns at once
    const p = m.vcpu.run();
    if (how === 'microtask') await Promise.resolve();
    if (how === 'immediate') await tick();
    if (how === '1ms') await sleep(1);
    if (how === 'stopVcpu') assert(addon.stopVcpu(m.vcpu.stopToken) === true, 'stopVcpu(token) found no vCPU');
    else if (how !== 'before') m.vcpu.stop();
    const r = await withTimeout(p, 2000, `run() stopped (${how}, round ${i})`);
    assert(r === EINTR, `run() stopped (${how}) answered ${r}`);
    counts[how]++;
    calls++;
  }
  // runSync() on this thread stopped from a timer is impossible (the thread is blocked), so the
  // stop() after runSync() only has to leave the next run interrupted at once.
  m.vcpu.stop();
  assert(m.vcpu.runSync() === EINTR, 'runSync() after stop() did not answer EINTR');
  const token = m.vcpu.stopToken;
  closeAll(m);
  assert(addon.stopVcpu(token) === false, 'stopVcpu() of a closed vCPU still found it');
  return Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// 4. Process exit with vCPUs running, and worker threads.

// A child or worker with vCPUs spinning in KVM_RUN: `vms` VMs of two vCPUs, all run() pending.
const SPINNERS = (vms) => `
  const a = require(${JSON.stringify(ADDON)});
  const live = [];
  for (let i = 0; i < ${vms}; i++) {
    const sys = a.openSystem('/dev/kvm');
    const vm = sys.createVm(0);
    new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
    for (let c = 0; c < 2; c++) { const v = vm.createVcpu(c); live.push(v); v.run().then((r) => { if (r !== 4) console.log('unexpected ' + r); }); }
  }
`;

function child(code, label) {
  calls++;
  const r = spawnSync(process.execPath, ['-e', code], { timeout: 20_000, encoding: 'utf8' });
  assert(r.error === undefined, `${label}: ${r.error && r.error.message}`);
  return r;
}

async function processExit() {
  const exits = [
    ['process.exit(7)', `${SPINNERS(3)}; setTimeout(() => process.exit(7), 100);`, 7],
    ['uncaught exception', `${SPINNERS(2)}; setTimeout(() => { throw new Error('boom'); }, 100);`, 1],
    ['process.exit() from a microtask right after run()', `${SPINNERS(2)}; Promise.resolve().then(() => process.exit(3));`, 3],
    [
      'process.exit() while a worker is in runSync()',
      `const { Worker } = require('node:worker_threads');
       const w = new Worker(${JSON.stringify(`
         const a = require(${JSON.stringify(ADDON)});
         const vm = a.openSystem('/dev/kvm').createVm(0);
         new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
         const v = vm.createVcpu(0);
         require('node:worker_threads').parentPort.postMessage(v.stopToken);
         v.runSync();`)}, { eval: true });
       w.on('message', (token) => setTimeout(() => {
         // the worker cannot unwind while it is in KVM_RUN: kick it, as the README says
         require(${JSON.stringify(ADDON)}).stopVcpu(token);
         process.exit(5);
       }, 50));`,
      5,
    ],
  ];
  for (const [label, code, status] of exits) {
    const t0 = performance.now();
    const r = child(code, label);
    const ms = performance.now() - t0;
    assert(r.signal === null, `${label}: killed by ${r.signal}; stderr: ${r.stderr.slice(-400)}`);
    assert(r.status === status, `${label}: exit status ${r.status}, want ${status}; stderr: ${r.stderr.slice(-400)}`);
    assert(!/unexpected/.test(r.stdout), `${label}: ${r.stdout}`);
    assert(ms < 10_000, `${label}: took ${ms.toFixed(0)} ms`);
  }
  return `${exits.length} child processes`;
}

function spawnWorker(code) {
  const w = new Worker(code, { eval: true });
  const errors = [];
  w.on('error', (e) => errors.push(e));
  const firstMessage = new Promise((resolve) => w.once('message', resolve));
  return { w, errors, firstMessage };
}

async function workers() {
  const post = `require('node:worker_threads').parentPort.postMessage`;
  let n = 0;
  // a. run() pending in a worker, terminate() mid-run: the cleanup hook kicks and joins the threads.
  for (let i = 0; i < 6; i++) {
    const { w, errors, firstMessage } = spawnWorker(`${SPINNERS(2)}; setTimeout(() => ${post}('running'), ${i * 5});`);
    await withTimeout(firstMessage, 10_000, 'worker start');
    await withTimeout(w.terminate(), 3000, 'terminate() of a worker with run() pending');
    assert(errors.length === 0, `worker error: ${errors[0]}`);
    n++;
  }
  // b. runSync() in a worker: the main thread kicks it by token, then terminates it.
  for (let i = 0; i < 4; i++) {
    const { w, errors, firstMessage } = spawnWorker(`
      const a = require(${JSON.stringify(ADDON)});
      const vm = a.openSystem('/dev/kvm').createVm(0);
      new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
      const v = vm.createVcpu(0);
      ${post}(v.stopToken);
      for (;;) if (v.runSync() !== 4) throw new Error('runSync answered something else');`);
    const token = await withTimeout(firstMessage, 10_000, 'worker token');
    await sleep(10);
    const done = w.terminate();
    // terminate() cannot interrupt native code; keep kicking until the worker unwinds.
    const kicker = setInterval(() => addon.stopVcpu(token), 2);
    await withTimeout(done, 3000, 'terminate() of a worker in runSync()').finally(() => clearInterval(kicker));
    assert(errors.length === 0, `worker error: ${errors[0]}`);
    assert(addon.stopVcpu(token) === false, 'the terminated worker\'s vCPU is still registered');
    n++;
  }
  // c. Workers that create, run and close normally, and exit by themselves.
  for (let i = 0; i < 4; i++) {
    const { w, errors, firstMessage } = spawnWorker(`
      const a = require(${JSON.stringify(ADDON)});
      const sys = a.openSystem('/dev/kvm');
      const vm = sys.createVm(0);
      new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set(${JSON.stringify(MMIO_THEN_SPIN)}, 0xfff0);
      const v = vm.createVcpu(0);
      v.run().then((r) => { const run = new Uint8Array(v.runBuffer()); vm.close(); sys.close(); ${post}(r + ':' + run.length); });`);
    const msg = await withTimeout(firstMessage, 10_000, 'worker result');
    assert(/^0:\d+$/.test(msg), `worker's run answered ${msg}`);
    await withTimeout(new Promise((r) => w.once('exit', r)), 5000, 'worker exit');
    assert(errors.length === 0, `worker error: ${errors[0]}`);
    n++;
  }
  // d. terminate() at random points while a worker is busy creating and destroying VMs.
  for (let i = 0; i < 8; i++) {
    const { w, firstMessage } = spawnWorker(`
      const a = require(${JSON.stringify(ADDON)});
      ${post}('start');
      for (let k = 0; ; k++) {
        const sys = a.openSystem('/dev/kvm');
        const vm = sys.createVm(0);
        new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set(${JSON.stringify(MMIO_THEN_SPIN)}, 0xfff0);
        const v = vm.createVcpu(0);
        v.runSync();
        if (k % 2) { vm.close(); sys.close(); }
      }`);
    await withTimeout(firstMessage, 10_000, 'busy worker start');
    await sleep(3 + i * 7);
    await withTimeout(w.terminate(), 3000, 'terminate() of a busy worker');
    n++;
  }
  return `${n} workers`;
}

// ---------------------------------------------------------------------------------------------
// 5. Wrong argument types and ranges to every native method, and wrong receivers.

// What each parameter kind must refuse, and with what.
const BAD = {
  u32: [[undefined, TypeError], [null, TypeError], ['1', TypeError], [{}, TypeError], [[], TypeError], [1n, TypeError],
    [Symbol('x'), TypeError], [() => 1, TypeError], [true, TypeError], [-1, RangeError], [1.5, RangeError],
    [NaN, RangeError], [Infinity, RangeError], [2 ** 32, RangeError]],
  u64: [[undefined, TypeError], [null, TypeError], ['1', TypeError], [{}, TypeError], [Symbol('x'), TypeError],
    [-1n, RangeError], [2n ** 64n, RangeError], [-1, RangeError], [0.5, RangeError], [2 ** 53, RangeError], [NaN, RangeError]],
  bool: [[undefined, TypeError], [0, TypeError], [1, TypeError], ['true', TypeError], [null, TypeError], [{}, TypeError]],
  bytes: [[undefined, TypeError], [null, TypeError], [new ArrayBuffer(8), TypeError], [new Uint16Array(4), TypeError],
    [new Int8Array(8), TypeError], [new Uint8ClampedArray(8), TypeError], [new DataView(new ArrayBuffer(8)), TypeError],
    [[0, 0, 0, 0, 0, 0, 0, 0], TypeError], ['12345678', TypeError], [Buffer.alloc(7), RangeError]],
  path: [[undefined, TypeError], [null, TypeError], [1, TypeError], [{}, TypeError], [Buffer.from('/dev/kvm'), TypeError],
    ['/nonexistent/kvm', ERRNO], ['', ERRNO], ['/dev/kvm\0junk', TypeError]],
};

// [object, method, [[kind, goodValue, 'optional'?], ...]]; good values make the call valid apart from the one
// argument replaced. Wrong-size buffers are RangeErrors only where the size is checked
// (register values, dirty bitmaps, attribute data); elsewhere the size is right.
function signatures(m) {
  return [
    ['system', m.sys, 'checkExtension', [['u32', 0]]],
    ['system', m.sys, 'createVm', [['u32', 0, 'optional']]],
    ['vm', m.vm, 'checkExtension', [['u32', 0]]],
    ['vm', m.vm, 'setMemoryRegion', [['u32', 5], ['u32', 0], ['u64', 0x200000n], ['u64', 4096]]],
    ['vm', m.vm, 'deleteMemoryRegion', [['u32', 9]]],
    ['vm', m.vm, 'getDirtyLog', [['u32', 0], ['bytes', new Uint8Array(8)]]],
    ['vm', m.vm, 'createVcpu', [['u32', 3]]],
    ['vm', m.vm, 'irqLine', [['u32', 0], ['bool', true]]],
    ['vm', m.vm, 'createDevice', [['u32', 4], ['bool', true]]],
    // A device fd for deviceAttr: x86 KVM has the VFIO pseudo-device (KVM_DEV_TYPE_VFIO = 4), which
    // every x86 kernel with KVM builds; op 1 (GET) so that data is required.
    ...(m.deviceFd === undefined ? [] : [['vm', m.vm, 'deviceAttr', [['u32', 1], ['u32', m.deviceFd], ['u32', 1], ['u64', 1n], ['bytes', new Uint8Array(8)]]]]),
    ['vcpu', m.vcpu, 'getOneReg', [['u64', RISCV_PC], ['bytes', new Uint8Array(8)]]],
    ['vcpu', m.vcpu, 'setOneReg', [['u64', RISCV_PC], ['bytes', new Uint8Array(8)]]],
    ['vcpu', m.vcpu, 'setRunPoll', [['u32', 0]]],
    ['vcpu', m.vcpu, 'benchSbiLoop', [['u32', 1]]],
    ['vcpu', m.vcpu, 'interrupt', [['u32', 0]]],
    ['vcpu', m.vcpu, 'setMpState', [['u32', 0]]],
    ['addon', addon, 'stopVcpu', [['u32', 0]]],
    ['addon', addon, 'openSystem', [['path', '/dev/kvm']]],
  ];
}

async function wrongArguments() {
  const m = machine();
  let note = '';
  try {
    m.deviceFd = m.vm.createDevice(4, false);
  } catch (e) {
    note = `; deviceAttr signature skipped: no VFIO device (${e.code})`;
  }
  let n = 0;
  for (const [what, obj, method, params] of signatures(m)) {
    for (let i = 0; i < params.length; i++) {
      const [kind, , optional] = params[i];
      for (const [bad, want] of BAD[kind]) {
        if (optional && bad === undefined) continue; // an optional argument may be undefined
        const args = params.map(([, good]) => good);
        args[i] = bad;
        const shown = typeof bad === 'symbol' ? 'Symbol' : typeof bad === 'bigint' ? `${bad}n` : bad instanceof Object ? bad.constructor.name : JSON.stringify(bad);
        const e = throws(() => obj[method](...args), want, `${what}.${method} arg ${i} = ${shown}`);
        if (want === TypeError || want === RangeError) assert(e.message.length > 8, `${what}.${method}: terse message "${e.message}"`);
        n++;
      }
      // Missing arguments: the call with only the first i arguments.
      if (!optional) throws(() => obj[method](...params.slice(0, i).map(([, g]) => g)), TypeError, `${what}.${method} with ${i} arguments`);
      n++;
    }
  }
  // Range checks that depend on more than one argument or on the register id.
  throws(() => m.vcpu.getOneReg(RISCV_PC, new Uint8Array(4)), RangeError, 'getOneReg: 4-byte out for a 64-bit register');
  throws(() => m.vcpu.setOneReg(0x8000000000000000n | (7n << 52n), new Uint8Array(8)), RangeError, 'setOneReg: 8 bytes for a 2048-byte register');
  throws(() => m.vm.getDirtyLog(0, new Uint8Array(0)), RangeError, 'getDirtyLog: empty bitmap');
  throws(() => m.vm.getDirtyLog(77, new Uint8Array(8)), ERRNO, 'getDirtyLog: no such slot');
  throws(() => m.vm.setMemoryRegion(5, 0, 0x200001n, 4096), RangeError, 'setMemoryRegion: unaligned gpa');
  throws(() => m.vm.setMemoryRegion(5, 0, 0x200000n, 100), RangeError, 'setMemoryRegion: size not a page multiple');
  throws(() => m.vm.setMemoryRegion(5, 0, 0xfffffffffffff000n, 0x2000), RangeError, 'setMemoryRegion: wraps');
  throws(() => m.vm.setMemoryRegion(5, 0xff, 0x200000n, 4096), RangeError, 'setMemoryRegion: unknown flags');
  throws(() => m.vm.setMemoryRegion(70000, 0, 0x200000n, 4096), RangeError, 'setMemoryRegion: slot >= 65536');
  throws(() => m.vm.setMemoryRegion(0, 0, 0x200000n, 4096), RangeError, 'setMemoryRegion: slot in use');
  throws(() => m.vm.setMemoryRegion(5, 0, 0x200000n, 2 ** 52), ERRNO, 'setMemoryRegion: 4 PiB');
  throws(() => m.vm.deviceAttr(3, 3, 0, 0n, new Uint8Array(8)), RangeError, 'deviceAttr: op 3');
  throws(() => m.vm.deviceAttr(1, 0, 0, 0n, new Uint8Array(8)), RangeError, 'deviceAttr: fd 0 is no device of this VM');
  throws(() => m.vm.deviceAttr(1, m.vcpu.stopToken + 1000, 0, 0n, new Uint8Array(4)), RangeError, 'deviceAttr: unknown fd');
  throws(() => m.vm.createVcpu(0), ERRNO, 'createVcpu: id in use');
  throws(() => m.vm.createVcpu(2 ** 31), ERRNO, 'createVcpu: huge id');
  throws(() => m.vcpu.setRunPoll(1000001), RangeError, 'setRunPoll: over 1 s');
  n += 17;
  // Wrong receivers: a method of one class called on another object, and direct construction.
  const protos = [['system', m.sys], ['vm', m.vm], ['vcpu', m.vcpu]];
  for (const [what, obj] of protos) {
    const proto = Object.getPrototypeOf(obj);
    const Ctor = proto.constructor;
    throws(() => new Ctor(), TypeError, `new ${what} constructor`);
    throws(() => new Ctor(1, 2), TypeError, `new ${what} constructor (1, 2)`);
    n += 2;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      // A plain object and one inheriting the prototype are not wrapped at all (node-addon-api's
      // Unwrap refuses them); a handle of another class is, and only the type tag tells it apart.
      const foreign = protos.find(([w]) => w !== what);
      for (const [receiver, want, shown] of [[{}, Error, '{}'], [Object.create(proto), Error, 'Object.create(proto)'], [foreign[1], TypeError, `a ${foreign[0]}`]]) {
        const fn = typeof desc.value === 'function' ? () => desc.value.call(receiver) : () => desc.get.call(receiver);
        throws(fn, want, `${what}.${key} called on ${shown}`);
        n++;
      }
    }
  }
  closeAll(m);
  return `${n} refused calls${note}`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  await check('closed handles: every method after close', closedHandles);
  await check('double close in every order; VM outlives the /dev/kvm fd', closeOrders);
  await check('guest memory and kvm_run views after close', viewsAfterClose);
  await check('views after GC of their VMs, VMs after GC of their views', viewsAfterGc);
  await check('guest memory transferred away (structuredClone)', transferredMemory);
  await check('concurrent run() and calls during run()', concurrentRun);
  await check('stop() during run() at every moment', stopDuringRun);
  await check('process exit with vCPUs running (child processes)', processExit);
  await check('worker threads: create/run/terminate mid-run', workers);
  await check('wrong argument types and receivers to every native method', wrongArguments);
  await fullGc();
  const failed = results.filter((r) => !r.ok).length;
  console.log(`misuse: ${results.length} checks, ${failed} failed, ${calls} calls, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
