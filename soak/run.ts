/**
 * `npm run soak`: create/run/destroy cycles on every available backend, watching for leaks.
 *
 * Each cycle opens a VM, installs a RAM slot, creates vCPU 0, loads guest/build/srst.bin at
 * RAM + 2 MiB, runs it to its SRST shutdown (type in a2, reason in a3: the reason is the cycle
 * number, checked in the exit) and closes the VM. Before the first cycle, every --report cycles and
 * at the end it prints the open file descriptors (/proc/self/fd) and the RSS after a full GC
 * (node --expose-gc; the npm script passes it). It fails (exit 1) when:
 *   - the fd count at the end differs from the count before the first cycle (tolerance: none;
 *     every fd a cycle opens — KVM's VM and vCPU fds, the emulator's none — must be closed);
 *   - RSS grew by more than --rss-mb (default 20 MB) between the end of the warm-up
 *     (--warmup cycles, default 300) and the end. The warm-up is long because RSS steps up over the
 *     first few hundred cycles and then stays flat (measured on the emulator: ~72 MB at start,
 *     ~116 MB from cycle 300 on, ~141 MB still at cycle 5000): glibc raises its mmap threshold
 *     after the first freed 4 MiB guest RAM buffers and serves later ones from its heap, which it
 *     keeps. The JS heap and ArrayBuffer totals stay flat throughout, so they are checked too;
 *   - the JS heap plus live ArrayBuffers grew by more than 5 MB after the warm-up (a JS-side leak:
 *     a VM, slot or vCPU object kept alive after close());
 *   - any cycle did not end in its shutdown exit.
 *
 *   --cycles N   cycles per backend (default 1000)
 *   --backend B  emulator | kvm | all (default all available: KVM only on riscv64 with /dev/kvm)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hypervisor, VcpuExit } from '../lib/backend/types.js';
import { regId, REG_PC } from '../lib/abi/regs.js';

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 4 * 1024 * 1024;
const LOAD_ADDR = RAM_BASE + 0x20_0000n;
const RUN_TIMEOUT_MS = 5000;
/** Growth of JS heap + live ArrayBuffers after warm-up that counts as a leak. */
const JS_TOLERANCE_MB = 5;

interface Options { cycles: number; backend: 'emulator' | 'kvm' | 'all'; rssMb: number; warmup: number; report: number }

function parseArgs(argv: string[]): Options {
  const o: Options = { cycles: 1000, backend: 'all', rssMb: 20, warmup: 300, report: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    const n = Number(v);
    switch (a) {
      case '--cycles': o.cycles = n; break;
      case '--rss-mb': o.rssMb = n; break;
      case '--warmup': o.warmup = n; break;
      case '--report': o.report = n; break;
      case '--backend':
        if (v !== 'emulator' && v !== 'kvm' && v !== 'all') throw new Error(`--backend must be emulator, kvm or all, got ${v}`);
        o.backend = v;
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
    if (a !== '--backend' && !(Number.isInteger(n) && n >= 0)) throw new Error(`${a} needs a non-negative integer, got ${v}`);
  }
  if (o.warmup >= o.cycles) o.warmup = Math.floor(o.cycles / 10);
  return o;
}

const gc = (globalThis as { gc?: () => void }).gc;

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined; // not Linux
  }
}

function rssMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().rss / (1024 * 1024);
}

interface Sample { cycle: number; fds: number | undefined; rss: number; heap: number; arrayBuffers: number }

function sample(cycle: number): Sample {
  const rss = rssMb();
  const m = process.memoryUsage();
  return { cycle, fds: openFds(), rss, heap: m.heapUsed / (1024 * 1024), arrayBuffers: m.arrayBuffers / (1024 * 1024) };
}

const show = (backend: string, s: Sample): string =>
  `  ${backend.padEnd(8)} cycle ${String(s.cycle).padStart(5)}: fds ${s.fds ?? 'n/a'}, rss ${s.rss.toFixed(1)} MB (JS heap ${s.heap.toFixed(1)} MB, ArrayBuffers ${s.arrayBuffers.toFixed(1)} MB)`;

async function runToExit(run: () => Promise<VcpuExit>, stop: () => void): Promise<VcpuExit> {
  const timer = setTimeout(stop, RUN_TIMEOUT_MS);
  try {
    return await run();
  } finally {
    clearTimeout(timer);
  }
}

/** One create/run/destroy cycle; returns an error message or undefined. */
async function cycle(hv: Hypervisor, image: Uint8Array, n: number): Promise<string | undefined> {
  const vm = hv.createVm();
  try {
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE });
    ram.writeBytes(LOAD_ADDR, image);
    const vcpu = vm.createVcpu(0);
    vcpu.setReg(REG_PC, LOAD_ADDR);
    vcpu.setReg(regId('core.a2'), 0n); // SRST shutdown
    vcpu.setReg(regId('core.a3'), BigInt(n)); // reason: the cycle number
    const exit = await runToExit(() => vcpu.run(), () => vcpu.stop());
    if (exit.reason !== 'system_event' || exit.type !== 'shutdown') return `cycle ${n}: exit ${exit.reason}${exit.reason === 'system_event' ? ` ${exit.type}` : ''}, want a shutdown`;
    if (exit.data[0] !== BigInt(n)) return `cycle ${n}: shutdown reason ${exit.data[0]}, want ${n}`;
    return undefined;
  } finally {
    vm.close();
  }
}

interface BackendResult { backend: string; samples: Sample[]; errors: string[]; verdict: string[]; ms: number }

async function soak(name: string, hv: Hypervisor, image: Uint8Array, o: Options): Promise<BackendResult> {
  const samples: Sample[] = [sample(0)];
  console.log(show(name, samples[0]!));
  const errors: string[] = [];
  const start = performance.now();
  let warm: Sample | undefined;
  for (let n = 1; n <= o.cycles; n++) {
    const err = await cycle(hv, image, n);
    if (err) {
      errors.push(err);
      if (errors.length >= 5) break;
    }
    if (n === o.warmup) warm = sample(n);
    if (n % o.report === 0 || n === o.cycles) {
      const s = n === o.warmup && warm ? warm : sample(n);
      samples.push(s);
      console.log(show(name, s) + (n === o.warmup ? ' (end of warm-up)' : ''));
    }
  }
  const ms = performance.now() - start;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const verdict: string[] = [];
  if (first.fds !== undefined && last.fds !== first.fds) verdict.push(`open fds went from ${first.fds} to ${last.fds} (tolerance: none)`);
  const base = warm ?? first;
  const growth = last.rss - base.rss;
  const jsGrowth = last.heap + last.arrayBuffers - (base.heap + base.arrayBuffers);
  if (jsGrowth > JS_TOLERANCE_MB) verdict.push(`JS heap + ArrayBuffers grew ${jsGrowth.toFixed(1)} MB after warm-up, tolerance ${JS_TOLERANCE_MB} MB`);
  if (growth > o.rssMb) verdict.push(`RSS grew ${growth.toFixed(1)} MB after warm-up (cycle ${base.cycle}: ${base.rss.toFixed(1)} MB → ${last.rss.toFixed(1)} MB), tolerance ${o.rssMb} MB`);
  console.log(`  ${name.padEnd(8)} ${last.cycle} cycles in ${(ms / 1000).toFixed(1)} s (${(ms / Math.max(last.cycle, 1)).toFixed(2)} ms/cycle); fds ${first.fds ?? 'n/a'} → ${last.fds ?? 'n/a'}; RSS after warm-up ${base.rss.toFixed(1)} → ${last.rss.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB); JS heap + ArrayBuffers ${(base.heap + base.arrayBuffers).toFixed(1)} → ${(last.heap + last.arrayBuffers).toFixed(1)} MB`);
  return { backend: name, samples, errors, verdict, ms };
}

async function openBackends(o: Options): Promise<{ name: string; hv: Hypervisor }[]> {
  const out: { name: string; hv: Hypervisor }[] = [];
  if (o.backend !== 'kvm') {
    const { createEmulator } = await import('../lib/backend/emulator/index.js');
    out.push({ name: 'emulator', hv: createEmulator() });
  }
  if (o.backend !== 'emulator') {
    try {
      const kvm = await import('../lib/backend/kvm/index.js');
      const a = kvm.kvmAvailability();
      if (a.available) out.push({ name: 'kvm', hv: kvm.openKvm() });
      else if (o.backend === 'kvm') throw new Error(`KVM unavailable: ${a.reason}`);
      else console.log(`soak: kvm skipped (${a.reason})`);
    } catch (e) {
      if (o.backend === 'kvm') throw e;
      console.log(`soak: kvm skipped (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (!gc) throw new Error('run with node --expose-gc (npm run soak does): RSS is measured after a full GC');
  const image = new Uint8Array(readFileSync(fileURLToPath(new URL('../guest/build/srst.bin', import.meta.url))));
  const backends = await openBackends(o);
  console.log(`soak: ${o.cycles} create/run/destroy cycles per backend (${backends.map((b) => b.name).join(', ')}); warm-up ${o.warmup}; RSS tolerance ${o.rssMb} MB; fd tolerance 0`);
  let failed = false;
  for (const { name, hv } of backends) {
    const r = await soak(name, hv, image, o);
    hv.close();
    for (const e of [...r.errors, ...r.verdict]) {
      console.log(`FAIL ${name}: ${e}`);
      failed = true;
    }
  }
  console.log(failed ? 'soak: FAILED' : 'soak: ok');
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exitCode = 2;
});
