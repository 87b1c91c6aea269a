// Host test of scripts/rig/run-bench-p1.sh against the stand-in QEMU (test/rig/fixtures/fake-qemu.sh
// with a canned console): it builds the guest loop and the C reference, picks the P1-RESULT lines
// out of the console, and its last stdout line is the P1 summary; a rig that prints no results or
// a truncated run fails. The real measurement is `npm run bench:p1` itself.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useFakeRig } from './fake-rig.js';

// The script refuses to run without the built KVM backend and the riscv64 addon (it ships them to
// the rig), and needs the cross tools; without them there is nothing to test here.
const ready =
  existsSync(join(REPO, 'dist/lib/backend/kvm/index.js')) &&
  existsSync(join(REPO, 'prebuilds/linux-riscv64/kvm_riscv.node')) &&
  spawnSync('riscv64-linux-gnu-gcc', ['--version']).status === 0;

const rig = useFakeRig('kvm-bench-p1-');

function bench(consoleText: string) {
  return rig.run('run-bench-p1.sh', [], { FAKE_QEMU_MODE: 'canned', FAKE_QEMU_CONSOLE: rig.consoleFile(consoleText) });
}

const summary = '{"metric":"P1","path":"runSync","us_per_exit":80,"c_us_per_exit":50,"ratio":1.6,"paths":{"runSync":{"us_per_exit":80,"ratio":1.6}}}';

describe.skipIf(!ready)('run-bench-p1.sh', () => {
  it('prints the result lines from the console with the P1 summary last', async () => {
    const r = await bench(
      ['[    1.0] kernel noise', 'P1-RESULT {"path":"c","us_per_exit":50}', 'noise P1-RESULT not at the start',
        `P1-RESULT ${summary}`, 'KVM-RIG-EXIT 0', '[   9.0] reboot: Power down', ''].join('\n'),
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual(['{"path":"c","us_per_exit":50}', summary]);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ metric: 'P1', ratio: 1.6 });
    expect(existsSync(join(REPO, 'bench/build/p1/c-reference'))).toBe(true);
    expect(existsSync(join(REPO, 'bench/build/p1/p1-loop.bin'))).toBe(true);
  });

  it('fails when the rig printed no results or the run ended before the summary', async () => {
    expect((await bench('KVM-RIG-EXIT 0\n')).code).not.toBe(0);
    const cut = await bench('P1-RESULT {"path":"c","us_per_exit":50}\nKVM-RIG-EXIT 0\n');
    expect(cut.code).not.toBe(0);
    const failed = await bench(`P1-RESULT ${summary}\nKVM-RIG-EXIT 1\n`);
    expect(failed.code).not.toBe(0);
  });
});
