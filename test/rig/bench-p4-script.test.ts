// Host test of scripts/rig/run-bench-p4.sh against the stand-in QEMU (test/rig/fixtures/fake-qemu.sh
// with a canned console): it picks the P4-RESULT lines out of the rig's console and its last stdout
// line is the P4 summary; a rig that prints no results, a failed in-rig run or a bad P4_RUNS fails
// with a {"metric":"P4","error":...} last line. The real measurement is `npm run bench:p4` itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useFakeRig } from './fake-rig.js';

// The script ships these to the rig and refuses to run without them (KVM_RIG_SKIP_BUILD=1 builds
// nothing); a fresh checkout has none of them, so the payload cases skip there.
const ready = [
  'dist/cli/kvm-riscv.cjs', 'dist/lib/cli/node-flags.js', 'dist/lib/backend/kvm/index.js', 'prebuilds/linux-riscv64/kvm_riscv.node',
  '.cache/e2e/Image', '.cache/e2e/initramfs.cpio', '.cache/e2e/disk.img', '.cache/p4-qemu/bin/qemu-system-riscv64',
].every((f) => existsSync(join(REPO, f)));

const rig = useFakeRig('kvm-bench-p4-');

function bench(consoleText: string, env: Record<string, string> = {}) {
  return rig.run('run-bench-p4.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: rig.consoleFile(consoleText), ...env });
}

const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
const summary = '{"metric":"P4","kvm_riscv_s":14.4,"qemu_s":6.3,"ratio":2.286,"runs":1}';

describe('run-bench-p4.sh', () => {
  it('refuses a bad P4_RUNS with an error summary, before building or booting anything', async () => {
    const r = await bench('KVM-RIG-EXIT 0\n', { P4_RUNS: '0' });
    expect(r.code).not.toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ metric: 'P4', error: expect.stringContaining('P4_RUNS') });
  });

  it.skipIf(!ready)('prints the result lines from the console with the P4 summary last', async () => {
    const r = await bench(
      ['[    1.0] kernel noise', 'P4-RESULT {"round":1,"side":"kvm_riscv","s":14.4}', 'noise P4-RESULT not at the start',
        'P4-DIAG kvm-riscv: backend kvm', 'P4-RESULT {"round":1,"side":"qemu","s":6.3}', `P4-RESULT ${summary}`,
        'KVM-RIG-EXIT 0', ''].join('\n'),
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual(['{"round":1,"side":"kvm_riscv","s":14.4}', '{"round":1,"side":"qemu","s":6.3}', summary]);
    expect(lastJson(r.stdout)).toMatchObject({ metric: 'P4', ratio: 2.286 });
  }, 90_000);

  it.skipIf(!ready)('fails when the rig printed no results or the in-rig bench failed', async () => {
    const none = await bench('KVM-RIG-EXIT 0\n');
    expect(none.code).not.toBe(0);
    expect(lastJson(none.stdout)).toMatchObject({ metric: 'P4', error: expect.stringContaining('no results') });
    const failed = await bench('P4-RESULT {"metric":"P4","error":"qemu did not reach the init marker"}\nKVM-RIG-EXIT 1\n');
    expect(failed.code).not.toBe(0);
    expect(lastJson(failed.stdout)).toMatchObject({ metric: 'P4', error: expect.stringContaining('qemu') });
  }, 120_000);
});
