// P2: CPU-bound MIPS of the TypeScript emulator vs qemu-system-riscv64 (TCG), same guest program,
// same script. Run: npm run bench:p2 [-- --iterations N]
//
// The guest (bench/guest/p2-cpu.S) is assembled twice, with a short and a long iteration count.
// The emulator runs the long one; its retired-instruction count comes from the guest's own rdinstret
// at the final SRST call. QEMU (with OpenSBI, -bios default) runs both; the difference of the two wall
// times removes QEMU's start-up and firmware time, and the difference of the two instruction counts
// (measured on the emulator, the program is deterministic) gives QEMU's MIPS.
// Last line: {"metric":"P2","emulator_mips":..,"qemu_mips":..,"ratio":emulator/qemu, ...}
// The emulator runs in a child process on the built library (bench/p2-emulate.mjs; this script runs
// tsc first), not in this one, whose TypeScript loader thread would be counted in the memory.
// Memory (bench/host-memory.ts has the definition), read from /proc at the end of the child's timed
// run, before its VM is closed: emulator_beyond_ram_mib = that whole node process's resident memory
// beyond the guest RAM's resident part (node itself included, as in bench:p3).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MemorySample, mib, sampleMemory } from './host-memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const argIter = process.argv.indexOf('--iterations');
const LONG = argIter > 0 ? Number(process.argv[argIter + 1]) : 20000; // ~390M instructions: long enough that QEMU's part is well above its start-up noise
const SHORT = 1;
const RAM_BYTES = 16 << 20;
const work = mkdtempSync(join(tmpdir(), 'kvm-riscv-p2-'));

function build(iterations: number): { elf: string; bin: string } {
  const obj = join(work, `p2-${iterations}.o`);
  const elf = join(work, `p2-${iterations}.elf`);
  const bin = join(work, `p2-${iterations}.bin`);
  execFileSync('riscv64-linux-gnu-as', ['-march=rv64im_zicsr', '--defsym', `ITERATIONS=${iterations}`, '-o', obj, join(here, 'guest/p2-cpu.S')]);
  execFileSync('riscv64-linux-gnu-ld', ['-T', join(here, 'guest/link.ld'), '-o', elf, obj]);
  execFileSync('riscv64-linux-gnu-objcopy', ['-O', 'binary', elf, bin]);
  return { elf, bin };
}

interface EmulatorRun { seconds: number; instret: bigint; checksum: bigint }

/** Runs the program `runs` times in one child process on the built library (bench/p2-emulate.mjs)
 * and samples the child's memory after the last run, with its VM still open. */
function emulate(bin: string, runs: number): Promise<{ runs: EmulatorRun[]; memory: MemorySample | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'p2-emulate.mjs'), bin, String(RAM_BYTES), String(runs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const results: EmulatorRun[] = [];
    let memory: MemorySample | null = null;
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = JSON.parse(pending.slice(0, nl)) as { measure?: true; seconds: number; instret: string; checksum: string };
        pending = pending.slice(nl + 1);
        if (line.measure) {
          memory = child.pid === undefined ? null : sampleMemory(child.pid, RAM_BYTES);
          child.stdin.end('go\n');
        } else {
          results.push({ seconds: line.seconds, instret: BigInt(line.instret), checksum: BigInt(`0x${line.checksum}`) });
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && results.length === runs) resolve({ runs: results, memory });
      else reject(new Error(`bench/p2-emulate.mjs failed (exit ${code}, ${results.length} of ${runs} runs)`));
    });
  });
}

function qemu(elf: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-riscv64', ['-machine', 'virt', '-nographic', '-m', '256M', '-bios', 'default',
    '-kernel', elf, '-no-reboot', '-monitor', 'none', '-serial', 'none'], { timeout: 300_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`qemu failed: ${r.status} ${r.stderr}`);
  return seconds;
}

const tsc = spawnSync(process.execPath, [join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, '..', 'tsconfig.json')], { stdio: 'inherit', timeout: 600_000 });
if (tsc.status !== 0) throw new Error(`tsc failed (status ${tsc.status}): dist/ would be stale`);
const short = build(SHORT);
const long = build(LONG);
const eShort = (await emulate(short.bin, 1)).runs[0]!;
// Two runs of the long program in one process: the first warms V8's tiers up, the second is timed.
const longRuns = await emulate(long.bin, 2);
const eLong = { ...longRuns.runs[1]!, memory: longRuns.memory };
const emulatorMips = Number(eLong.instret) / eLong.seconds / 1e6;
// Median of three for QEMU's two variants.
const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
const qShort = median([qemu(short.elf), qemu(short.elf), qemu(short.elf)]);
const qLong = median([qemu(long.elf), qemu(long.elf), qemu(long.elf)]);
const qemuMips = Number(eLong.instret - eShort.instret) / (qLong - qShort) / 1e6;
console.log(`guest: ${eLong.instret} instructions (checksum ${eLong.checksum.toString(16)})`);
console.log(`emulator: ${eLong.seconds.toFixed(3)} s, ${emulatorMips.toFixed(1)} MIPS`);
console.log(`qemu-system-riscv64 TCG: ${(qLong - qShort).toFixed(3)} s beyond start-up, ${qemuMips.toFixed(1)} MIPS`);
const mem = eLong.memory;
console.log(mem === null
  ? 'memory beyond guest RAM: unknown (no /proc, or no mapping of the guest RAM size)'
  : `memory: RSS ${mib(mem.rssKiB)} MiB, guest RAM resident ${mib(mem.ramRssKiB)} MiB (mapping ${mib(mem.ramMappingKiB)} MiB), beyond RAM ${mib(mem.beyondKiB)} MiB`);
console.log(JSON.stringify({
  metric: 'P2', emulator_mips: +emulatorMips.toFixed(1), qemu_mips: +qemuMips.toFixed(1), ratio: +(emulatorMips / qemuMips).toFixed(3), instructions: Number(eLong.instret),
  emulator_beyond_ram_mib: mem === null ? null : mib(mem.beyondKiB),
}));
