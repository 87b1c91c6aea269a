'use strict';
// Addon misuse on /dev/kvm (project issue 6, "addon misuse under AddressSanitizer").
//
//   node --expose-gc scripts/asan/misuse.cjs ADDON.node
//
// Meant to run under scripts/asan/run.sh (x86_64 host, its own /dev/kvm) or
// scripts/rig/run-asan-kvm.sh (the riscv64 addon in the nested rig): an ASan build of the addon,
// node started with LD_PRELOAD of libasan, the sanitizer's reports counted by the caller. This
// script checks the JS-visible half: every misuse gets the error the addon documents
// (lib/backend/kvm/native.d.ts: ERR_KVM_CLOSED, ERR_KVM_BUSY, TypeError, RangeError, errno errors)
// or is a documented no-op, and nothing hangs.
//
// The guests are a few instructions in a "ROM" slot at 0xffff0000: on x86 real-mode code at the
// reset vector (CS:IP f000:fff0, physical 0xfffffff0); on riscv64 RV64I code at the start of the
// slot, the pc set through ONE_REG (riscv KVM has no reset vector of its own). The riscv build
// also gets the checks only riscv reaches: KVM_INTERRUPT while the vCPU is in KVM_RUN, an
// interrupt waking a guest halted in wfi, stop() of a halted vCPU. CommonJS on purpose: workers
// and child processes load it with `node -e`.
//
// MISUSE_TIME_SCALE (default 1) multiplies every timeout: the rig runs nested under QEMU TCG,
// where node alone takes seconds to start.
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
// MISUSE_EXPECT_ASAN=1 (the runners set it): a process without the ASan runtime mapped would pass
// vacuously, e.g. when LD_PRELOAD named a missing file (ld.so only warns).
if (process.env.MISUSE_EXPECT_ASAN === '1' && !require('node:fs').readFileSync('/proc/self/maps', 'utf8').includes('/libasan.so')) {
  console.error('misuse: MISUSE_EXPECT_ASAN=1 but no libasan.so is mapped in this process');
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
const IS_RISCV = addon.arch === 'riscv64';
const TIME_SCALE = Math.max(1, Number(process.env.MISUSE_TIME_SCALE) || 1);
const ms = (n) => n * TIME_SCALE;
const ROM_BASE = 0xffff0000n;
const ROM_SIZE = 0x10000;
// Where the code goes in the ROM slot, and the guest-physical pc it starts at.
const CODE_OFFSET = IS_RISCV ? 0 : 0xfff0;
const ENTRY = ROM_BASE + BigInt(CODE_OFFSET);
// A riscv register id (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | regs.pc, api.rst
// §4.68): riscv's program counter; the right shape but refused on x86.
const RISCV_PC = 0x8030000002000000n;
const le64 = (v) => Array.from({ length: 8 }, (_, i) => Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
const ENTRY_BYTES = le64(ENTRY);

// RV64I instruction words (RISC-V unprivileged spec ch. 2 encodings; assembled with
// riscv64-linux-gnu-as -march=rv64gc, .option norvc) as little-endian bytes.
const rv = (...words) => words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]);
const RV_SPIN = 0x0000006f; // j .
const RV_STORE_5000 = [0x000052b7, 0x05500313, 0x00628023]; // lui t0,0x5; li t1,0x55; sb t1,0(t0)
const RV_STORE_1000 = [0x000012b7, 0x0aa00313, 0x00628023]; // lui t0,0x1; li t1,0xaa; sb t1,0(t0)

const SPIN = IS_RISCV ? rv(RV_SPIN) : [0xeb, 0xfe]; // jmp $
// A byte store to 0x5000 (no slot there: an MMIO exit), then spin.
const MMIO_THEN_SPIN = IS_RISCV ? rv(...RV_STORE_5000, RV_SPIN) : [0xc6, 0x06, 0x00, 0x50, 0x55, 0xeb, 0xfe];
// A byte store to RAM page 1 (0x1000) first, then MMIO_THEN_SPIN.
const WRITE_RAM_THEN_MMIO = IS_RISCV ? rv(...RV_STORE_1000, ...RV_STORE_5000, RV_SPIN) : [0xc6, 0x06, 0x00, 0x10, 0xaa, ...MMIO_THEN_SPIN];
// riscv only: enable the supervisor external interrupt (sie.SEIE, bit 9; sstatus.SIE, bit 1;
// privileged spec §12.1.3, §12.1.1), wait in wfi; the handler (stvec, direct mode, 32 bytes in)
// does the MMIO store. In KVM the guest's SEIP is the VS external interrupt KVM_INTERRUPT raises
// (api.rst §4.16, riscv: KVM_INTERRUPT_SET / KVM_INTERRUPT_UNSET).
const WFI_UNTIL_IRQ = rv(
  0x00000297, // auipc t0, 0
  0x02028293, // addi  t0, t0, 32        handler
  0x10529073, // csrw  stvec, t0
  0x20000313, // li    t1, 0x200         SEIE
  0x10432073, // csrs  sie, t1
  0x10016073, // csrsi sstatus, 2        SIE
  0x10500073, // 1: wfi
  0xffdff06f, // j 1b
  ...RV_STORE_5000, // handler: the MMIO exit that proves the interrupt was taken
  RV_SPIN,
);
const KVM_INTERRUPT_SET = 0xffffffff; // (unsigned)-1, include/uapi/asm-riscv/kvm.h
const KVM_INTERRUPT_UNSET = 0xfffffffe; // (unsigned)-2
const KVM_EXIT_MMIO = 6;
const KVM_RUN_EXIT_REASON = 8; // struct kvm_run: u8 request_interrupt_window, immediate_exit, padding[6]; u32 exit_reason

// The same setup as source text, for child processes and workers (they cannot share functions).
const GUEST_SETUP = `
  const loadCode = (vm, code) => new Uint8Array(vm.setMemoryRegion(1, 0, ${ROM_BASE}n, ${ROM_SIZE})).set(code, ${CODE_OFFSET});
  const bootVcpu = (vm, id) => {
    const v = vm.createVcpu(id);
    ${IS_RISCV ? `v.setOneReg(${RISCV_PC}n, new Uint8Array(${JSON.stringify(ENTRY_BYTES)}));` : ''}
    return v;
  };
  const SPIN = ${JSON.stringify(SPIN)};
  const MMIO_THEN_SPIN = ${JSON.stringify(MMIO_THEN_SPIN)};
  const WFI_UNTIL_IRQ = ${JSON.stringify(IS_RISCV ? WFI_UNTIL_IRQ : [])};
`;

let calls = 0;
const results = [];

/** A vCPU of `vm` that starts at ENTRY. */
function bootVcpu(vm, id) {
  const vcpu = vm.createVcpu(id);
  if (IS_RISCV) vcpu.setOneReg(RISCV_PC, new Uint8Array(ENTRY_BYTES));
  return vcpu;
}

/** A small VM: ROM at ENTRY running `code`, 8 KiB of dirty-logged RAM at 0, vCPU 0. */
function machine(code = SPIN) {
  const sys = addon.openSystem('/dev/kvm');
  const vm = sys.createVm(0);
  const rom = vm.setMemoryRegion(1, 0, ROM_BASE, ROM_SIZE);
  new Uint8Array(rom).set(code, CODE_OFFSET);
  const ram = vm.setMemoryRegion(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 0x2000);
  const vcpu = bootVcpu(vm, 0);
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

/** `promise`, or a failed check after `limit` ms (scaled by MISUSE_TIME_SCALE). */
function withTimeout(promise, limit, label) {
  let timer;
  const scaled = ms(limit);
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`${label}: no answer within ${scaled} ms`)), scaled);
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
  const m = machine(WRITE_RAM_THEN_MMIO);
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
  const m = machine(WRITE_RAM_THEN_MMIO);
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
  const second = bootVcpu(m.vm, 1);
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
  if (IS_RISCV) {
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

/** The MMIO exit of the guests' store to 0x5000, read from kvm_run (api.rst §5: struct kvm_run, mmio). */
function mmioExitOf(runBuffer) {
  const run = new DataView(runBuffer);
  return {
    reason: run.getUint32(KVM_RUN_EXIT_REASON, true),
    addr: run.getBigUint64(32, true), // the exit union starts at offset 32
    byte: run.getUint8(40),
    len: run.getUint32(48, true),
    isWrite: run.getUint8(52),
  };
}

async function interruptDuringRun() {
  // riscv only (see concurrentRun). a. KVM_INTERRUPT raised and lowered many times while the vCPU
  // spins in KVM_RUN with interrupts masked (sstatus.SIE is 0 at reset, so nothing is taken), then
  // stop(): the asynchronous ioctl races the vCPU thread's own kvm_run accesses.
  const m = machine();
  let toggles = 0;
  for (let round = 0; round < 20; round++) {
    const p = m.vcpu.run();
    for (let k = 0; k < 10; k++) {
      m.vcpu.interrupt(KVM_INTERRUPT_SET);
      m.vcpu.interrupt(KVM_INTERRUPT_UNSET);
      toggles++;
      calls += 2;
      if (k % 3 === round % 3) await tick();
    }
    if (round % 2) m.vcpu.interrupt(KVM_INTERRUPT_SET); // left pending, masked: still no exit
    m.vcpu.stop();
    const r = await withTimeout(p, 2000, `run() stopped after interrupts (round ${round})`);
    assert(r === EINTR, `run() with interrupts raced answered ${r}`);
  }
  closeAll(m);

  // b. A guest halted in wfi with SEIE enabled: odd rounds wake it with interrupt() (its handler's
  // MMIO store is the exit), even rounds stop() it while halted (the kick must reach a vCPU that
  // is blocked in the kernel, not running guest code).
  const w = machine(WFI_UNTIL_IRQ);
  const entry = new Uint8Array(ENTRY_BYTES);
  let woken = 0;
  let stoppedHalted = 0;
  for (let round = 0; round < 16; round++) {
    w.vcpu.interrupt(KVM_INTERRUPT_UNSET);
    w.vcpu.setOneReg(RISCV_PC, entry);
    let settled = false;
    const p = w.vcpu.run().finally(() => (settled = true));
    await sleep(ms(20)); // the guest reaches wfi in a few instructions
    assert(!settled, `round ${round}: the guest left wfi with no interrupt pending`);
    calls++;
    if (round % 2) {
      w.vcpu.interrupt(KVM_INTERRUPT_SET);
      const r = await withTimeout(p, 2000, `run() woken by interrupt() (round ${round})`);
      const exit = mmioExitOf(w.vcpu.runBuffer());
      assert(r === 0 && exit.reason === KVM_EXIT_MMIO, `round ${round}: run() answered ${r}, exit reason ${exit.reason} (want 0, KVM_EXIT_MMIO)`);
      assert(exit.addr === 0x5000n && exit.byte === 0x55 && exit.len === 1 && exit.isWrite === 1, `round ${round}: MMIO exit ${JSON.stringify(exit, (k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
      // The next run() completes the store (the guest moves past it to its final `j .`); stop it
      // there, so that setting the pc again is not undone by the completion.
      const q = w.vcpu.run();
      await tick();
      w.vcpu.stop();
      assert((await withTimeout(q, 2000, 'run() after the MMIO exit')) === EINTR, 'run() after the MMIO exit was not stopped');
      woken++;
    } else {
      w.vcpu.stop();
      const r = await withTimeout(p, 2000, `run() of a vCPU halted in wfi, stopped (round ${round})`);
      assert(r === EINTR, `round ${round}: stop() of a halted vCPU answered ${r}`);
      stoppedHalted++;
    }
    calls++;
  }
  closeAll(w);
  return `${toggles} set/unset pairs during run(); ${woken} wfi wake-ups by interrupt(); ${stoppedHalted} halted vCPUs stopped`;
}

// ---------------------------------------------------------------------------------------------
// 4. Process exit with vCPUs running, and worker threads.

// A child or worker with vCPUs spinning in KVM_RUN: `vms` VMs of two vCPUs, all run() pending
// (`code`: the name of a guest in GUEST_SETUP).
const SPINNERS = (vms, code = 'SPIN') => `
  const a = require(${JSON.stringify(ADDON)});
  ${GUEST_SETUP}
  const live = [];
  for (let i = 0; i < ${vms}; i++) {
    const sys = a.openSystem('/dev/kvm');
    const vm = sys.createVm(0);
    loadCode(vm, ${code});
    for (let c = 0; c < 2; c++) { const v = bootVcpu(vm, c); live.push(v); v.run().then((r) => { if (r !== 4) console.log('unexpected ' + r); }); }
  }
`;

function child(code, label) {
  calls++;
  const r = spawnSync(process.execPath, ['-e', code], { timeout: ms(20_000), encoding: 'utf8' });
  assert(r.error === undefined, `${label}: ${r.error && r.error.message}`);
  return r;
}

async function processExit() {
  const exits = [
    ['process.exit(7)', `${SPINNERS(3)}; setTimeout(() => process.exit(7), ${ms(100)});`, 7],
    ['uncaught exception', `${SPINNERS(2)}; setTimeout(() => { throw new Error('boom'); }, ${ms(100)});`, 1],
    ['process.exit() from a microtask right after run()', `${SPINNERS(2)}; Promise.resolve().then(() => process.exit(3));`, 3],
    [
      'process.exit() while a worker is in runSync()',
      `const { Worker } = require('node:worker_threads');
       const w = new Worker(${JSON.stringify(`
         const a = require(${JSON.stringify(ADDON)});
         ${GUEST_SETUP}
         const vm = a.openSystem('/dev/kvm').createVm(0);
         loadCode(vm, SPIN);
         const v = bootVcpu(vm, 0);
         require('node:worker_threads').parentPort.postMessage(v.stopToken);
         v.runSync();`)}, { eval: true });
       w.on('message', (token) => setTimeout(() => {
         // the worker cannot unwind while it is in KVM_RUN: kick it, as the README says
         require(${JSON.stringify(ADDON)}).stopVcpu(token);
         process.exit(5);
       }, 50));`,
      5,
    ],
    // riscv: vCPUs halted in wfi are blocked in the kernel, not running guest code.
    ...(IS_RISCV ? [['process.exit(9) with vCPUs halted in wfi', `${SPINNERS(2, 'WFI_UNTIL_IRQ')}; setTimeout(() => process.exit(9), ${ms(100)});`, 9]] : []),
  ];
  for (const [label, code, status] of exits) {
    const t0 = performance.now();
    const r = child(code, label);
    const took = performance.now() - t0;
    assert(r.signal === null, `${label}: killed by ${r.signal}; stderr: ${r.stderr.slice(-400)}`);
    assert(r.status === status, `${label}: exit status ${r.status}, want ${status}; stderr: ${r.stderr.slice(-400)}`);
    assert(!/unexpected/.test(r.stdout), `${label}: ${r.stdout}`);
    assert(took < ms(10_000), `${label}: took ${took.toFixed(0)} ms`);
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
      ${GUEST_SETUP}
      const vm = a.openSystem('/dev/kvm').createVm(0);
      loadCode(vm, SPIN);
      const v = bootVcpu(vm, 0);
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
      ${GUEST_SETUP}
      const sys = a.openSystem('/dev/kvm');
      const vm = sys.createVm(0);
      loadCode(vm, MMIO_THEN_SPIN);
      const v = bootVcpu(vm, 0);
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
      ${GUEST_SETUP}
      ${post}('start');
      for (let k = 0; ; k++) {
        const sys = a.openSystem('/dev/kvm');
        const vm = sys.createVm(0);
        loadCode(vm, MMIO_THEN_SPIN);
        const v = bootVcpu(vm, 0);
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
    ['vm', m.vm, 'createDevice', [['u32', DEVICE.type], ['bool', true]]],
    // op 1 (GET) so that data is required.
    ...(m.deviceFd === undefined ? [] : [['vm', m.vm, 'deviceAttr', [['u32', 1], ['u32', m.deviceFd], ['u32', DEVICE.group], ['u64', DEVICE.attr], ['bytes', new Uint8Array(8)]]]]),
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

// A device for deviceAttr with an attribute that GET answers. x86: the VFIO pseudo-device
// (KVM_DEV_TYPE_VFIO = 4), which every x86 kernel with KVM builds, group 1 attr 1. riscv: the AIA
// (KVM_DEV_TYPE_RISCV_AIA = 11), KVM_DEV_RISCV_AIA_GRP_CONFIG (0) / KVM_DEV_RISCV_AIA_CONFIG_MODE (0)
// (kvm-riscv-abi.md §1.8); only where the host has Ssaia, which QEMU's virt machine without
// aia=... lacks.
const DEVICE = IS_RISCV ? { name: 'AIA', type: 11, group: 0, attr: 0n } : { name: 'VFIO', type: 4, group: 1, attr: 1n };

async function wrongArguments() {
  const m = machine();
  let note = '';
  try {
    m.deviceFd = m.vm.createDevice(DEVICE.type, false);
  } catch (e) {
    note = `; deviceAttr signature skipped: no ${DEVICE.name} device (${e.code})`;
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
  if (IS_RISCV) await check('riscv: interrupt() during run(), wfi woken by interrupt(), stop() of a halted vCPU', interruptDuringRun);
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
