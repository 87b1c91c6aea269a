// Proves the nested rig end to end before the real KVM suite exists: this file is bundled into the
// in-guest suite (scripts/rig/bundle-tests.mjs) and runs on the riscv64 guest under real KVM.
// On any other host it skips; run it with `npm run test:kvm`.
import { closeSync, constants, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const inRig = process.env.KVM_RIG === '1';

describe.skipIf(!inRig)('rig smoke test (runs inside the nested rig only: npm run test:kvm)', () => {
  it('runs on riscv64 Linux', () => {
    expect(process.platform).toBe('linux');
    expect(process.arch).toBe('riscv64');
  });

  it('loaded kvm.ko', () => {
    // /proc/modules lines start with the module name; /sys/module/kvm appears once it is loaded.
    const modules = readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]);
    expect(modules).toContain('kvm');
    expect(existsSync('/sys/module/kvm')).toBe(true);
  });

  it('has a /dev/kvm character device that opens read-write', () => {
    const st = statSync('/dev/kvm');
    expect(st.isCharacterDevice()).toBe(true);
    // Documentation/virt/kvm/api.rst 4.1: user space opens /dev/kvm read-write.
    const fd = openSync('/dev/kvm', constants.O_RDWR);
    expect(fd).toBeGreaterThanOrEqual(0);
    closeSync(fd);
  });

  it('sees the payload laid out as a repository at KVM_RISCV_ROOT', () => {
    const root = process.env.KVM_RISCV_ROOT;
    expect(root).toBeDefined();
    const pkg = JSON.parse(readFileSync(join(root!, 'package.json'), 'utf8')) as { name?: string };
    expect(pkg.name).toBe('kvm-riscv');
  });
});
