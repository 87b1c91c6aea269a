/**
 * Guest memory is never unmapped while KVM still has its slot, even when a worker is terminated
 * with vCPUs in KVM_RUN (native/objects.h, lifetime rules).
 *
 * Node frees external ArrayBuffers in environment cleanup hooks that run before the addon's own
 * hook, whatever references the addon holds; the addon used to munmap() guest memory there, while
 * the slot was installed and its vCPU threads were still running. KVM then faulted on the missing
 * VMA (the rig kernel logged "Failed to find VMA for hva ..."), and worse, the freed addresses were
 * reused by the next mmap while the old slot still pointed at them. ASan cannot see this; the
 * syscall order can: strace every mmap/munmap/ioctl of a process whose workers are terminated
 * mid-run, and check that each slot's memory is unmapped only after its
 * KVM_SET_USER_MEMORY_REGION with memory_size 0.
 *
 * Needs an x86_64 Linux host with /dev/kvm, strace, and the native build (npm run build:addon);
 * the guests are x86 (`jmp $` at the reset vector). The riscv64 addon gets the same scenario in the
 * rig (scripts/rig/run-asan-kvm.sh), where the kernel log is checked instead.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
// KVM_TEARDOWN_ADDON: another build to check (e.g. one from before the fix, to see this test fail).
const ADDON = process.env.KVM_TEARDOWN_ADDON ?? join(ROOT, 'build', 'Release', 'kvm_riscv.node');

function usable(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(ADDON)) return false;
  if (spawnSync('strace', ['-V'], { encoding: 'utf8' }).status !== 0) return false;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

const WORKERS = 4;
const VMS_PER_WORKER = 2;

// Each worker: VMS_PER_WORKER VMs, one 64 KiB slot each, two vCPUs spinning in KVM_RUN; then it is
// terminated. The parent waits for every worker to say it started its runs.
const SCENARIO = `
const { Worker } = require('node:worker_threads');
const code = \`
  const a = require(\${JSON.stringify(process.argv[2])});
  const live = [];
  for (let i = 0; i < ${VMS_PER_WORKER}; i++) {
    const vm = a.openSystem('/dev/kvm').createVm(0);
    new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
    for (let c = 0; c < 2; c++) { const v = vm.createVcpu(c); live.push(v); v.run(); }
  }
  require('node:worker_threads').parentPort.postMessage('running');
\`;
(async () => {
  for (let i = 0; i < ${WORKERS}; i++) {
    const w = new Worker(code, { eval: true });
    await new Promise((r) => w.once('message', r));
    await new Promise((r) => setTimeout(r, 5));
    await w.terminate();
  }
})();
`;

interface Finding {
  installed: number;
  deleted: number;
  unmappedAfterDelete: number;
  unmappedWhileInstalled: string[];
}

/** Replays the strace log: which slot memory was unmapped while KVM still had the slot. */
function replay(log: string): Finding {
  const live = new Map<string, string>(); // "fd/slot" -> hva of the installed slot
  const installedHvas = new Set<string>(); // hvas under an installed slot
  const deletedHvas = new Set<string>();
  const finding: Finding = { installed: 0, deleted: 0, unmappedAfterDelete: 0, unmappedWhileInstalled: [] };
  for (const line of log.split('\n')) {
    const region = /ioctl\((\d+), KVM_SET_USER_MEMORY_REGION, \{slot=(\d+), flags=\w+, guest_phys_addr=\w+, memory_size=(\d+), userspace_addr=(0x[0-9a-f]+|0)\}/.exec(line);
    if (region) {
      const [, fd, slot, size, hva] = region;
      const key = `${fd}/${slot}`;
      if (size !== '0') {
        live.set(key, hva);
        installedHvas.add(hva);
        deletedHvas.delete(hva);
        finding.installed++;
      } else if (live.has(key)) {
        const old = live.get(key)!;
        live.delete(key);
        installedHvas.delete(old);
        deletedHvas.add(old);
        finding.deleted++;
      }
      continue;
    }
    const unmap = /munmap\((0x[0-9a-f]+), \d+\)/.exec(line);
    if (unmap) {
      if (installedHvas.has(unmap[1])) finding.unmappedWhileInstalled.push(line.trim());
      else if (deletedHvas.delete(unmap[1])) finding.unmappedAfterDelete++;
    }
  }
  return finding;
}

describe.skipIf(!usable())('guest memory outlives its KVM slot at worker teardown (strace)', () => {
  it('every slot is deleted from KVM before its memory is unmapped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvm-teardown-'));
    try {
      const script = join(dir, 'scenario.cjs');
      const trace = join(dir, 'strace.log');
      writeFileSync(script, SCENARIO);
      const r = spawnSync(
        'strace',
        ['-f', '-qq', '-e', 'trace=munmap,ioctl', '-e', 'signal=none', '-o', trace, process.execPath, script, ADDON],
        { encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const finding = replay(readFileSync(trace, 'utf8'));
      // Not vacuous: every slot was installed, deleted and unmapped within the trace.
      expect(finding.installed).toBe(WORKERS * VMS_PER_WORKER);
      expect(finding.deleted).toBe(WORKERS * VMS_PER_WORKER);
      expect(finding.unmappedWhileInstalled).toEqual([]);
      expect(finding.unmappedAfterDelete).toBe(WORKERS * VMS_PER_WORKER);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
