/**
 * Host test of scripts/rig/run-asan-kvm.sh (the riscv64 addon under ASan in the rig) against the
 * stand-in QEMU (test/rig/fixtures/fake-qemu.sh with a canned console): what it counts as a pass,
 * that an ASan report, a failed check, a silent canary or a KVM error in the kernel log fails it,
 * and that a guest that never reports is "could not run", never a pass. The real run is
 * `bash scripts/rig/run-asan-kvm.sh` itself (a step of scripts/test-all.sh).
 *
 * The script ships .cache/asan-riscv64 and refuses to run without it (KVM_RIG_SKIP_BUILD=1 builds
 * nothing here), so the cases skip until `bash scripts/asan/build-riscv64.sh` has run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useFakeRig } from '../rig/fake-rig.js';

const ready = ['kvm_riscv.node', 'lib/libasan.so.8', 'canary.so'].every((f) => existsSync(join(REPO, '.cache/asan-riscv64', f)));

const rig = useFakeRig('kvm-asan-rig-');

function run(consoleLines: string[]) {
  return rig.run('run-asan-kvm.sh', [], {
    FAKE_QEMU_MODE: 'canned',
    FAKE_QEMU_CONSOLE: rig.consoleFile(consoleLines.join('\n') + '\n'),
    KVM_RIG_TIMEOUT: '60',
  });
}

const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1) ?? '';
const CHECKS = ['ok    closed handles: every method after close (40 methods) [224 ms]', 'misuse: 11 checks, 0 failed, 1363 calls, 143.1 s'];

describe.skipIf(!ready)('run-asan-kvm.sh', () => {
  it('passes on a clean run and says how many checks and reports', async () => {
    const r = await run(['[    0.1] boot noise', ...CHECKS, 'ASAN-RIG-RESULT misuse_status=0 reports=0 report_files=0 canary=ok kvm_errors=0', 'KVM-RIG-EXIT 0']);
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toMatch(/^asan-kvm: PASS \(misuse: 11 checks, 0 failed, 1363 calls, .*AddressSanitizer reports: 0; rig wall time \d+ s\)$/);
    expect(r.stdout).toContain('ok    closed handles');
    expect(r.stdout).not.toContain('boot noise');
  }, 90_000);

  it('fails on an ASan report and shows it', async () => {
    const r = await run([
      ...CHECKS,
      'ASAN-REPORT-BEGIN /tmp/asan-reports/asan.123',
      '==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010',
      '    #0 0x3f77fb92b2 in kvmriscv::KvmVm::CloseNative() ../native/vm.cc:290',
      'SUMMARY: AddressSanitizer: heap-use-after-free ../native/vm.cc:290',
      'ASAN-REPORT-END',
      'ASAN-RIG-RESULT misuse_status=0 reports=1 report_files=1 canary=ok kvm_errors=0',
      'KVM-RIG-EXIT 1',
    ]);
    expect(r.code).toBe(1);
    expect(lastLine(r.stdout)).toMatch(/^asan-kvm: FAIL .*AddressSanitizer reports: 1/);
    expect(r.stdout).toContain('heap-use-after-free');
    expect(r.stdout).toContain('vm.cc:290');
  }, 90_000);

  it('fails when the result line says so, whatever the guest exit status (a check, a report, the canary, a KVM error)', async () => {
    for (const result of [
      'misuse_status=1 reports=0 report_files=0 canary=ok kvm_errors=0',
      'misuse_status=0 reports=2 report_files=1 canary=ok kvm_errors=0',
      'misuse_status=0 reports=0 report_files=0 canary=FAILED kvm_errors=0',
      'misuse_status=0 reports=0 report_files=0 canary=ok kvm_errors=2',
    ]) {
      const r = await run([...CHECKS, `ASAN-RIG-RESULT ${result}`, 'KVM-RIG-EXIT 0']);
      expect(r.code, result).toBe(1);
      expect(lastLine(r.stdout), result).toMatch(/^asan-kvm: FAIL /);
    }
  }, 240_000);

  it('is "could not run" (status 2) when the guest printed no result', async () => {
    const r = await run(['kvm-rig: booted in 3.1 s, 2 harts', 'KVM-RIG-EXIT 0']);
    expect(r.code).toBe(2);
    expect(lastLine(r.stdout)).toBe('asan-kvm: FAIL (could not run)');
  }, 90_000);
});
