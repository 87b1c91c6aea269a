// Where the P3 boot's memory goes, over time: a diagnostic for issue 5's memory goal, not a
// benchmark figure (bench:p3 reports those). Boots the built CLI (run `npx tsc -p tsconfig.json`
// first) like bench:p3, samples /proc/<pid>/smaps every 50 ms until the init marker, and prints the
// samples with the most memory beyond guest RAM and the last one, split by kind of mapping:
//   heap  glibc's main malloc arena ([heap]: typed arrays such as the decode caches, V8's malloc)
//   anon  other anonymous memory (V8's heap, compiler-thread malloc arenas, zones)
//   rwx   compiled code (V8 JIT and WebAssembly code space)
//   file  the node binary and shared libraries as far as they are resident
// Guest RAM is the anonymous rw mapping of the guest RAM's size (the emulator's arena) and is not
// counted. Node flags after the script name are passed to the CLI's node, e.g. --liftoff-only.
//   node bench/p3-memory-timeline.mjs [node flags...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = 'KVM-RISCV-E2E: init running';
const RAM_MIB = 256;
const E2E = join(REPO, '.cache', 'e2e');

const child = spawn(process.execPath, [
  ...process.argv.slice(2), join(REPO, 'dist', 'lib', 'cli', 'main.js'), 'run',
  '--kernel', join(E2E, 'Image'), '--initrd', join(E2E, 'initramfs.cpio'), '-m', `${RAM_MIB}M`,
  '--append', 'console=ttyS0 quiet cryptomgr.notests', '--backend', 'emulator', '--no-stats',
], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
const started = performance.now();
const samples = [];

/** One reading, MiB by kind; null once the process is gone. */
function sample() {
  let smaps;
  try {
    smaps = readFileSync(`/proc/${child.pid}/smaps`, 'utf8');
  } catch {
    return;
  }
  const kinds = { heap: 0, anon: 0, rwx: 0, file: 0 };
  let kind = null;
  for (const line of smaps.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const mib = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1048576;
      const path = head[4];
      if (path === '[heap]') kind = 'heap';
      else if (path !== '') kind = path.startsWith('[') ? null : 'file';
      else if (head[3] === 'rwxp') kind = 'rwx';
      else if (head[3] === 'rw-p' && mib >= RAM_MIB && mib < RAM_MIB + 64) kind = null; // guest RAM
      else kind = 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) kinds[kind] += Number(rss[1]) / 1024;
  }
  const beyond = kinds.heap + kinds.anon + kinds.rwx + kinds.file;
  samples.push({ t: (performance.now() - started) / 1000, beyond, ...kinds });
}

const show = (s) => `t=${s.t.toFixed(2)} s  beyond RAM ${s.beyond.toFixed(0)} MiB  (heap ${s.heap.toFixed(0)}, anon ${s.anon.toFixed(0)}, rwx ${s.rwx.toFixed(0)}, file ${s.file.toFixed(0)})`;
const timer = setInterval(sample, 50);
let seen = '';
let done = false;
child.stdout.setEncoding('latin1').on('data', (d) => {
  if (done) return;
  seen = seen.slice(-MARKER.length) + d;
  if (!seen.includes(MARKER)) return;
  done = true;
  sample();
  clearInterval(timer);
  child.kill('SIGKILL');
  console.log('largest samples:');
  for (const s of [...samples].sort((a, b) => b.beyond - a.beyond).slice(0, 5)) console.log(`  ${show(s)}`);
  console.log(`at the marker:\n  ${show(samples[samples.length - 1])}`);
});
child.on('close', (code, signal) => {
  clearInterval(timer);
  if (!done) {
    console.error(`no "${MARKER}" (exit ${code ?? signal}); build the e2e images with scripts/e2e/build-initramfs.sh and dist with tsc`);
    process.exitCode = 1;
  }
});
