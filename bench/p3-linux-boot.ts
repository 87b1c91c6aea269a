// P3: Debian trixie's riscv64 kernel from launch to the init marker, the kvm-riscv emulator vs
// qemu-system-riscv64 (TCG), same kernel, initrd and command line, same script (issue 4,
// "Benchmarks"). Run: npm run bench:p3 [-- --runs N] [-- --jit on|off|both]
//
// Both sides are launched as processes and timed from spawn to the moment the marker string
// appears on their console (stdout); the process is killed then. That includes process start-up:
// node + the CLI for the emulator, QEMU + OpenSBI (-bios default) for the reference.
//   emulator: kvm-riscv run --backend emulator: the built CLI (package.json's "bin", what the
//             package's `kvm-riscv` runs; this script runs npm run build first), not the sources
//             through scripts/ts-loader.mjs, whose loader thread and transpiler would be counted
//             in the time and the memory
//   qemu:     qemu-system-riscv64 -machine virt -m 256M -nographic -kernel Image -initrd ... -append ...
// One hart, 256 MiB on both. The emulator's block compiler is on by default; KVM_RISCV_JIT=0 turns
// it off (lib/backend/emulator/cpu/hart.ts), so each setting runs in its own child process.
// The kernel and initramfs come from scripts/e2e/build-initramfs.sh (cached in .cache/e2e).
// Last line: {"metric":"P3","emulator_s":..,"qemu_s":..,"ratio":emulator/qemu, ...} where
// emulator_s is the default setting (JIT on) and emulator_nojit_s the interpreter alone.
// Memory: *_beyond_ram_mib is each process's resident memory beyond its guest RAM's resident part
// (bench/host-memory.ts has the exact definition), the peak of samples taken every 250 ms and at
// the marker, the largest over the runs: the whole VMM process, node or QEMU included.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MemorySample, PeakMemory, mib } from './host-memory.js';
import { CMDLINE, MARKER, RAM_BYTES, emulatorBootArgs, watchForMarker } from './p3-boot.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** One boot's hang bound: 60 s is typical for the emulator, 10 min covers a busy 2-core host. */
const BOOT_LIMIT_MS = 600_000;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const runs = Number(option('--runs', '1'));
const jit = option('--jit', 'both');
if (!Number.isInteger(runs) || runs < 1 || runs > 10) throw new RangeError(`--runs ${runs}: 1..10`);
if (!['on', 'off', 'both'].includes(jit)) throw new RangeError(`--jit ${jit}: on, off or both`);

const built = spawnSync('bash', [join(REPO, 'scripts', 'e2e', 'build-initramfs.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
if (built.status !== 0) throw new Error(`scripts/e2e/build-initramfs.sh failed (status ${built.status})`);
const out = built.stdout.trim().split('\n').pop()!;
const image = join(out, 'Image');
const initrd = join(out, 'initramfs.cpio');

interface Boot { seconds: number; memory: MemorySample | null }

/** Seconds from spawning `cmd` until MARKER shows on its stdout, and its peak memory beyond guest
 * RAM until then; the process is killed at the marker. */
function timeToMarker(label: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Boot> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const memory = child.pid === undefined ? null : new PeakMemory(child.pid, RAM_BYTES);
    let errText = '';
    let elapsed: number | undefined;
    const limit = setTimeout(() => child.kill('SIGKILL'), BOOT_LIMIT_MS);
    watchForMarker(child.stdout, () => {
      elapsed = (performance.now() - t0) / 1000;
      memory?.sample();
      child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { errText = (errText + d).slice(-2000); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      const peak = memory?.stop() ?? null;
      if (elapsed !== undefined) resolve({ seconds: elapsed, memory: peak });
      else reject(new Error(`${label}: no "${MARKER}" (exit ${code ?? signal} after ${((performance.now() - t0) / 1000).toFixed(1)} s): ${errText.trim()}`));
    });
  });
}

const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit', timeout: 600_000 });
if (build.status !== 0) throw new Error(`npm run build failed (status ${build.status}): the CLI under dist/ would be stale`);
// The CLI as its bin runs it: package.json's "bin" file, with the node flags of its first line
// (lib/cli/main.ts).
const emulatorArgs = emulatorBootArgs(REPO, image, initrd);
const qemuArgs = [
  '-machine', 'virt', '-m', '256M', '-nographic', '-bios', 'default', '-monitor', 'none',
  '-kernel', image, '-initrd', initrd, '-append', CMDLINE,
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times: Record<'qemu' | 'jit' | 'nojit', number[]> = { qemu: [], jit: [], nojit: [] };
/** Largest peak beyond RAM over the runs, KiB (undefined: /proc could not tell). */
const beyond: Record<'qemu' | 'jit' | 'nojit', number | undefined> = { qemu: undefined, jit: undefined, nojit: undefined };
const describeMemory = (m: MemorySample | null): string =>
  m === null ? 'memory beyond RAM unknown' : `${mib(m.beyondKiB)} MiB beyond guest RAM (RSS ${mib(m.rssKiB)} MiB, RAM resident ${mib(m.ramRssKiB)} MiB)`;
const keepLargest = (side: 'qemu' | 'jit' | 'nojit', m: MemorySample | null): void => {
  if (m !== null) beyond[side] = Math.max(beyond[side] ?? 0, m.beyondKiB);
};
// Interleaved rounds, so a burst of load from elsewhere on the host hits every side alike.
for (let round = 0; round < runs; round++) {
  const q = await timeToMarker('qemu', 'qemu-system-riscv64', qemuArgs);
  times.qemu.push(q.seconds);
  keepLargest('qemu', q.memory);
  console.log(`round ${round + 1}: qemu-system-riscv64 TCG ${q.seconds.toFixed(2)} s, ${describeMemory(q.memory)}`);
  for (const setting of ['jit', 'nojit'] as const) {
    if (jit !== 'both' && (setting === 'jit') !== (jit === 'on')) continue;
    const env = { ...process.env, KVM_RISCV_JIT: setting === 'jit' ? '1' : '0' };
    const e = await timeToMarker(`emulator (${setting})`, process.execPath, emulatorArgs, env);
    times[setting].push(e.seconds);
    keepLargest(setting, e.memory);
    console.log(`round ${round + 1}: emulator, JIT ${setting === 'jit' ? 'on ' : 'off'} ${e.seconds.toFixed(2)} s, ${describeMemory(e.memory)}`);
  }
}

const qemuS = median(times.qemu);
const jitS = times.jit.length ? median(times.jit) : undefined;
const nojitS = times.nojit.length ? median(times.nojit) : undefined;
const emulatorS = (jitS ?? nojitS)!;
const round3 = (x: number): number => +x.toFixed(3);
const beyondMib = (kib: number | undefined): number | null => (kib === undefined ? null : mib(kib));
const emulatorBeyond = jitS !== undefined ? beyond.jit : beyond.nojit;
console.log(`kernel ${image}, initrd ${initrd}, append '${CMDLINE}', marker '${MARKER}', median of ${runs}`);
console.log(JSON.stringify({
  metric: 'P3',
  emulator_s: round3(emulatorS),
  qemu_s: round3(qemuS),
  ratio: round3(emulatorS / qemuS),
  jit: jitS !== undefined,
  ...(jitS !== undefined && nojitS !== undefined ? { emulator_nojit_s: round3(nojitS), ratio_nojit: round3(nojitS / qemuS) } : {}),
  emulator_beyond_ram_mib: beyondMib(emulatorBeyond),
  ...(jitS !== undefined && nojitS !== undefined ? { emulator_nojit_beyond_ram_mib: beyondMib(beyond.nojit) } : {}),
  qemu_beyond_ram_mib: beyondMib(beyond.qemu),
  runs,
}));
