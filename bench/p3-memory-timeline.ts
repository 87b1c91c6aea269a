// Where the P3 boot's memory goes, over time: a diagnostic for issue 5's memory goal, not a
// benchmark figure (bench:p3 reports those). Boots the built CLI like bench:p3 (npm run
// bench:p3:memory runs npm run build first), samples the process every 50 ms until the init marker with
// bench/host-memory.ts (the same definition of "beyond guest RAM" as bench:p2 and bench:p3), and
// prints the samples with the most memory beyond guest RAM and the last one, split by kind of
// mapping (host-memory.ts MemoryByKind). Node flags after the script name are passed to the CLI's
// node after those of its bin (lib/cli/main.ts's first line), e.g. --liftoff-only:
//   npm run bench:p3:memory [-- node flags...]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MemoryByKind, memoryByKind, mib } from './host-memory.js';
import { MARKER, RAM_BYTES, emulatorBootArgs, watchForMarker } from './p3-boot.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const E2E = join(REPO, '.cache', 'e2e');

// The CLI as its bin runs it (its first line's node flags), then any flags given here.
const child = spawn(process.execPath, emulatorBootArgs(REPO, join(E2E, 'Image'), join(E2E, 'initramfs.cpio'), process.argv.slice(2)),
  { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
const started = performance.now();
const samples: (MemoryByKind & { t: number })[] = [];

function sample(): void {
  const m = child.pid === undefined ? null : memoryByKind(child.pid, RAM_BYTES);
  if (m !== null) samples.push({ t: (performance.now() - started) / 1000, ...m });
}

const show = (s: MemoryByKind & { t: number }): string =>
  `t=${s.t.toFixed(2)} s  beyond RAM ${mib(s.beyond)} MiB  (heap ${mib(s.heap)}, anon ${mib(s.anon)}, code ${mib(s.code)}, file ${mib(s.file)})`;
const timer = setInterval(sample, 50);
let done = false;
watchForMarker(child.stdout, () => {
  done = true;
  sample();
  clearInterval(timer);
  child.kill('SIGKILL');
  console.log('largest samples:');
  for (const s of [...samples].sort((a, b) => b.beyond - a.beyond).slice(0, 5)) console.log(`  ${show(s)}`);
  if (samples.length > 0) console.log(`at the marker:\n  ${show(samples[samples.length - 1]!)}`);
});
child.on('close', (code, signal) => {
  clearInterval(timer);
  if (!done) {
    console.error(`no "${MARKER}" (exit ${code ?? signal}); build the e2e images with scripts/e2e/build-initramfs.sh and the CLI with npm run build`);
    process.exitCode = 1;
  }
});
