// Host test of the rig's scripts (run-in-rig.sh, run-kvm-tests.sh) against a stand-in QEMU
// (test/rig/fixtures/fake-qemu.sh): exit statuses, the hard timeout, marker parsing and the closing
// line. The real boot is exercised by `npm run test:kvm` itself.
import { describe, expect, it } from 'vitest';
import { useFakeRig } from './fake-rig.js';

const rig = useFakeRig('kvm-rig-scripts-');

function run(script: string, args: string[], env: Record<string, string>) {
  return rig.run(script, args, { KVM_RIG_TEST_FILES: 'test/rig/fixtures/shim-plain.fixture.ts', ...env });
}

const console_ = (name: string, text: string): string => rig.consoleFile(text, name);

const lastLine = (s: string) => s.trimEnd().split('\n').pop();

describe('run-in-rig.sh', () => {
  it('runs the command from the payload, arguments intact, and exits with its status', async () => {
    const r = await run('run-in-rig.sh', ['--', 'sh', '-c', 'echo "[$1|$2]" && test -f package.json && exit 3', 'x', 'two words', "it's"], { FAKE_QEMU_MODE: 'run' });
    expect(r.stdout).toContain('[two words|it\'s]');
    expect(r.code).toBe(3);
  });

  it('ships KVM_RIG_EXTRA paths at the same place and refuses paths outside the repo', async () => {
    const r = await run('run-in-rig.sh', ['--', 'cat', 'test/rig/fixtures/shim-plain.fixture.ts'], { FAKE_QEMU_MODE: 'run', KVM_RIG_EXTRA: 'test/rig/fixtures' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('a file without .only runs all its tests');
    const bad = await run('run-in-rig.sh', ['--', 'true'], { FAKE_QEMU_MODE: 'run', KVM_RIG_EXTRA: '../etc' });
    expect(bad.code).toBe(2);
  });

  it('exports KVM_RIG_GUEST_ENV to the command and rejects malformed entries', async () => {
    const r = await run('run-in-rig.sh', ['--', 'sh', '-c', 'echo "<$KVM_RIG_X|$KVM_RIG_Y>"'], { FAKE_QEMU_MODE: 'run', KVM_RIG_GUEST_ENV: 'KVM_RIG_X=1 KVM_RIG_Y=a$b' });
    expect(r.stdout).toContain('<1|a$b>');
    expect(r.code).toBe(0);
    const bad = await run('run-in-rig.sh', ['--', 'true'], { FAKE_QEMU_MODE: 'run', KVM_RIG_GUEST_ENV: '1BAD=x' });
    expect(bad.code).toBe(2);
  });

  it('kills a guest that never reports at the timeout and exits 124', async () => {
    const started = Date.now();
    const r = await run('run-in-rig.sh', ['--timeout', '2', '--', 'true'], { FAKE_QEMU_MODE: 'hang' });
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/timed out after 2s/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('rejects a bad timeout and a missing command', async () => {
    expect((await run('run-in-rig.sh', ['--timeout', 'soon', '--', 'true'], { FAKE_QEMU_MODE: 'run' })).code).toBe(2);
    expect((await run('run-in-rig.sh', [], { FAKE_QEMU_MODE: 'run' })).code).toBe(2);
  });
});

describe('run-kvm-tests.sh', () => {
  it('passes a clean run through: counts from the result line, todo counted as skipped', async () => {
    const file = console_('clean', 'OpenSBI\nkvm-rig: kvm.ko loaded\n  ok   a\nKVM-RIG-RESULT passed=7 failed=0 skipped=2 todo=1\nKVM-RIG-EXIT 0\n[ 9.1] reboot: Power down\n');
    const r = await run('run-kvm-tests.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: file });
    expect(lastLine(r.stdout)).toBe('kvm-rig: 7 passed, 0 failed, 3 skipped');
    expect(r.code).toBe(0);
  });

  it('fails when tests failed', async () => {
    const file = console_('failing', 'KVM-RIG-RESULT passed=5 failed=2 skipped=0 todo=0\r\nKVM-RIG-EXIT 1\r\n');
    const r = await run('run-kvm-tests.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: file });
    expect(lastLine(r.stdout)).toBe('kvm-rig: 5 passed, 2 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('fails when the guest never reports a result (panic, crash before the summary)', async () => {
    const file = console_('panic', 'Kernel panic - not syncing: Attempted to kill init!\n');
    const r = await run('run-kvm-tests.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: file });
    expect(lastLine(r.stdout)).toBe('kvm-rig: 0 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('fails when node exits non-zero although the summary shows no failure', async () => {
    const file = console_('crash', 'KVM-RIG-RESULT passed=4 failed=0 skipped=0 todo=0\nSegmentation fault\nKVM-RIG-EXIT 139\n');
    const r = await run('run-kvm-tests.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: file });
    expect(lastLine(r.stdout)).toBe('kvm-rig: 4 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('fails with a closing line when the rig times out', async () => {
    const r = await run('run-kvm-tests.sh', [], { FAKE_QEMU_MODE: 'hang', KVM_RIG_TIMEOUT: '2' });
    expect(lastLine(r.stdout)).toBe('kvm-rig: 0 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });
});
