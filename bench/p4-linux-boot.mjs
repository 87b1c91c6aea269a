// P4 (issue 4, "Benchmarks"): Debian trixie's riscv64 kernel from launch to the init marker under
// nested KVM, kvm-riscv's CLI (--backend kvm) vs Debian trixie's qemu-system-riscv64 (-accel kvm),
// same kernel, initrd, disk and command line, in the same rig boot. Runs INSIDE the rig:
// scripts/rig/run-bench-p4.sh (npm run bench:p4) ships this file, dist, the addon, .cache/e2e and
// the pruned QEMU of bench/p4-build-qemu.sh, and runs
//   node /kvm-riscv/bench/p4-linux-boot.mjs [--runs N]
//
// Both sides are launched as processes and timed from spawn to the moment the marker appears on
// their console (stdout); the process is killed then. That includes process start-up on both
// sides (node + the CLI + the addon; QEMU + its 40-odd shared libraries), as in P3. Neither side
// runs firmware in the guest: KVM's in-kernel SBI implementation serves both (QEMU with KVM takes
// -bios none; api.rst "KVM_CAP_RISCV_SBI_EXT"), the UART and the virtio-mmio disk are user-space
// MMIO devices on both. One vCPU, 256 MiB on both.
//
// Rounds alternate which side goes first, so a slow phase of the (emulated, shared) host hits
// both alike; the medians are compared. kvm-riscv runs with -v, whose "backend kvm" line splits
// its time into process start-up and the guest's boot (kvm_riscv_startup_s, kvm_riscv_guest_s).
// After the rounds (P4_DIAG=0 skips them) come diagnostics that are not part of the ratio: start-up
// floors (node -e 0, the CLI's --version, qemu --version), one kvm-riscv boot stopped with SIGINT
// at the marker for its exit statistics (P4-DIAG lines), and what importing dist modules costs. Every line meant for the host starts with "P4-RESULT "
// and carries one JSON object; the last is
//   {"metric":"P4","kvm_riscv_s":..,"qemu_s":..,"ratio":kvm_riscv_s/qemu_s,...}
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.env.KVM_RISCV_ROOT ?? process.cwd();
const E2E = process.env.P4_E2E_DIR ?? join(ROOT, '.cache', 'e2e');
const QEMU_DIR = process.env.P4_QEMU_DIR ?? join(ROOT, '.cache', 'p4-qemu');
const MARKER = 'KVM-RISCV-E2E: init running';
// The append of P3 and of test/kvm/linux-boot.test.ts.
const CMDLINE = 'console=ttyS0 quiet cryptomgr.notests';
/** One boot's hang bound: nested KVM under TCG on a busy 2-core host. */
const BOOT_LIMIT_MS = Number(process.env.P4_BOOT_LIMIT_MS ?? 300_000);

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const runs = Number(option('--runs', '3'));
if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new RangeError(`--runs ${runs}: 1..20`);

const result = (obj) => console.log(`P4-RESULT ${JSON.stringify(obj)}`);
const fail = (error) => { result({ metric: 'P4', error }); process.exit(1); };

const image = join(E2E, 'Image');
const initrd = join(E2E, 'initramfs.cpio');
const disk = join(E2E, 'disk.img');
const qemu = join(QEMU_DIR, 'bin', 'qemu-system-riscv64');
const { cliBin, shebangNodeFlags } = await import(join(ROOT, 'dist', 'lib', 'cli', 'node-flags.js'));
// The CLI as its bin runs it: package.json's "bin" file, with the node flags of its first line
// (lib/cli/main.ts).
const CLI_MAIN = cliBin(ROOT);
for (const f of [image, initrd, disk, qemu, CLI_MAIN]) {
  if (!existsSync(f)) fail(`missing ${f}`);
}
if (!existsSync('/dev/kvm')) fail('no /dev/kvm in this guest (kvm.ko not loaded?)');

// QEMU's libraries sit next to it; glibc is the rig's own (bench/p4-build-qemu.sh).
const qemuEnv = { ...process.env, LD_LIBRARY_PATH: join(QEMU_DIR, 'lib') };
const version = spawnSync(qemu, ['--version'], { env: qemuEnv, encoding: 'utf8', timeout: 120_000 });
if (version.status !== 0) fail(`qemu-system-riscv64 --version failed (${version.status ?? version.signal}): ${(version.stderr ?? '').trim()}`);
const qemuVersion = version.stdout.split('\n')[0].trim();

const CLI = [...shebangNodeFlags(CLI_MAIN), CLI_MAIN];

const sides = {
  kvm_riscv: {
    cmd: process.execPath,
    args: [...CLI, 'run', '--backend', 'kvm', '--kernel', image, '--initrd', initrd,
      '--disk', `${disk},ro`, '-m', '256M', '--smp', '1', '--append', CMDLINE, '--no-stats', '-v'],
    env: process.env,
    // -v logs this when the machine boots (lib/cli/cli.ts): before it is process start-up (node,
    // module loading, reading the files), after it the guest's own boot. A few stderr lines.
    startLine: 'kvm-riscv: backend ',
  },
  qemu: {
    cmd: qemu,
    // -bios none: under KVM the guest starts in VS-mode and KVM's in-kernel SBI is its firmware
    // (no OpenSBI to load), as for kvm-riscv. -cpu host: KVM's own ISA. -nic none: no default NIC (kvm-riscv has none), so no option ROM is looked for either.
    args: ['-machine', 'virt', '-accel', 'kvm', '-cpu', 'host', '-smp', '1', '-m', '256M', '-nographic', '-monitor', 'none',
      '-nic', 'none', '-bios', 'none', '-kernel', image, '-initrd', initrd, '-append', CMDLINE,
      '-drive', `file=${disk},format=raw,if=none,id=disk0,readonly=on`, '-device', 'virtio-blk-device,drive=disk0'],
    env: qemuEnv,
  },
};

/**
 * Seconds from spawn until MARKER shows on stdout ({ s }); the process is killed then. With a
 * startLine, also when that text first showed on stderr ({ startS }).
 */
function timeToMarker(label, { cmd, args, env, startLine }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let tail = '';
    let elapsed;
    let startS;
    let errSeen = '';
    const limit = setTimeout(() => child.kill('SIGKILL'), BOOT_LIMIT_MS);
    const onText = (d) => { tail = (tail + d).slice(-3000); };
    child.stdout.setEncoding('latin1').on('data', (d) => {
      onText(d);
      if (elapsed !== undefined) return;
      // Keep a marker's length of old text: the marker may straddle two chunks.
      seen = seen.slice(-MARKER.length) + d;
      if (seen.includes(MARKER)) {
        elapsed = (performance.now() - t0) / 1000;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('latin1').on('data', (d) => {
      onText(d);
      if (startLine === undefined || startS !== undefined) return;
      errSeen = errSeen.slice(-startLine.length) + d;
      if (errSeen.includes(startLine)) startS = (performance.now() - t0) / 1000;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      if (elapsed !== undefined) resolve({ s: elapsed, startS });
      else reject(new Error(`${label}: no "${MARKER}" (exit ${code ?? signal} after ${((performance.now() - t0) / 1000).toFixed(1)} s); output ends:\n${tail.replace(/\r/g, '')}`));
    });
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const round3 = (x) => +x.toFixed(3);
const times = { kvm_riscv: [], qemu: [] };
/** kvm-riscv's process start-up (spawn to machine boot) and guest boot (machine boot to marker). */
const kvmSplit = { startup: [], guest: [] };
for (let round = 0; round < runs; round++) {
  const order = round % 2 === 0 ? ['kvm_riscv', 'qemu'] : ['qemu', 'kvm_riscv'];
  for (const side of order) {
    let s;
    let startS;
    try {
      ({ s, startS } = await timeToMarker(side, sides[side]));
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      fail(`${side} did not reach the init marker in round ${round + 1}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    }
    times[side].push(s);
    if (startS !== undefined) { kvmSplit.startup.push(startS); kvmSplit.guest.push(s - startS); }
    result({ round: round + 1, side, s: round3(s), ...(startS !== undefined ? { machine_start_s: round3(startS) } : {}) });
  }
}

// Diagnostics, after the timed rounds so they cannot disturb them (P4_DIAG=0 skips them):
// start-up floors (process spawn to exit, median of 3) and one kvm-riscv boot with -v and its
// exit statistics, stopped with SIGINT at the marker (the CLI then prints the statistics).
function timeToExit(cmd, args, env = process.env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
  return (performance.now() - t0) / 1000;
}
function floor(cmd, args, env) {
  const xs = [];
  for (let i = 0; i < 3; i++) xs.push(timeToExit(cmd, args, env));
  return round3(median(xs));
}
function kvmRiscvExitStats() {
  return new Promise((resolve) => {
    const { cmd, args, env } = sides.kvm_riscv;
    const t0 = performance.now();
    const child = spawn(cmd, args.filter((a) => a !== '--no-stats'), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let err = '';
    let markerS;
    let machineS;
    const limit = setTimeout(() => child.kill('SIGKILL'), BOOT_LIMIT_MS);
    child.stdout.setEncoding('latin1').on('data', (d) => {
      if (markerS !== undefined) return;
      seen = seen.slice(-MARKER.length) + d;
      if (seen.includes(MARKER)) {
        markerS = (performance.now() - t0) / 1000;
        child.kill('SIGINT');
        // The CLI stops the machine and prints its statistics; don't wait forever for it.
        setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
      }
    });
    child.stderr.setEncoding('latin1').on('data', (d) => {
      // -v logs "backend kvm, ..." when the machine boots: what came before is process start-up.
      if (machineS === undefined && (err + d).includes('kvm-riscv: backend ')) machineS = (performance.now() - t0) / 1000;
      err = (err + d).slice(-6000);
    });
    const r3 = (x) => (x === undefined ? null : round3(x));
    child.on('close', () => { clearTimeout(limit); resolve({ marker_s: r3(markerS), machine_start_s: r3(machineS), stderr: err.trim() }); });
    child.on('error', (e) => { clearTimeout(limit); resolve({ marker_s: null, stderr: String(e) }); });
  });
}
if (process.env.P4_DIAG !== '0') {
  try {
    result({
      diag: 'startup_floor_s',
      node_e0: floor(process.execPath, ['-e', '0']),
      kvm_riscv_version: floor(process.execPath, [...CLI, '--version']),
      qemu_version: floor(qemu, ['--version'], qemuEnv),
    });
  } catch (e) {
    result({ diag: 'startup_floor_s', error: e instanceof Error ? e.message : String(e) });
  }
  const stats = await kvmRiscvExitStats();
  for (const line of stats.stderr.split('\n')) console.log(`P4-DIAG ${line}`);
  result({ diag: 'kvm_riscv_verbose_boot', marker_s: stats.marker_s, machine_start_s: stats.machine_start_s });
  // What loading kvm-riscv's modules costs here (a fresh node each; node -e 0 is the floor above).
  const imports = {};
  for (const mod of ['lib/cli/cli.js', 'lib/vmm/machine.js', 'lib/backend/kvm/index.js', 'lib/backend/emulator/index.js']) {
    const file = join(ROOT, 'dist', mod);
    if (!existsSync(file)) continue;
    try {
      imports[mod] = round3(timeToExit(process.execPath, ['-e', `import(${JSON.stringify(file)})`]));
    } catch (e) {
      imports[mod] = e instanceof Error ? e.message : String(e);
    }
  }
  result({ diag: 'import_s', ...imports });
}

const kvmS = median(times.kvm_riscv);
const qemuS = median(times.qemu);
result({
  metric: 'P4',
  kvm_riscv_s: round3(kvmS),
  qemu_s: round3(qemuS),
  ratio: round3(kvmS / qemuS),
  runs,
  // Medians of kvm-riscv's split (see sides.kvm_riscv.startLine); QEMU's start-up floor is in the
  // startup_floor_s diagnostic line.
  ...(kvmSplit.startup.length === runs ? { kvm_riscv_startup_s: round3(median(kvmSplit.startup)), kvm_riscv_guest_s: round3(median(kvmSplit.guest)) } : {}),
  kvm_riscv_all_s: times.kvm_riscv.map(round3),
  qemu_all_s: times.qemu.map(round3),
  qemu: qemuVersion,
  qemu_args: sides.qemu.args.join(' ').replaceAll(E2E + '/', ''),
  append: CMDLINE,
});
