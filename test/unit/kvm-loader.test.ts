import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KVM_API_VERSION, KVM_GET_REG_LIST, KVM_RUN, KVM_RUN_OFF, KVM_RUN_SIZE, KVM_SET_ONE_REG } from '../../lib/abi/kvm.js';
import { openKvm } from '../../lib/backend/kvm/index.js';
import { ADDON_RELATIVE_PATHS, kvmAvailability, packageRoot, probeKvm, type HostProbe } from '../../lib/backend/kvm/loader.js';
import { KvmUnavailableError } from '../../lib/errors.js';
import { FakeSystem } from './kvm-fake-native.js';

const ROOT = '/pkg';

function goodAddon(overrides: Record<string, unknown> = {}) {
  return {
    openSystem: () => new FakeSystem(),
    abi: {
      KVM_API_VERSION,
      KVM_RUN,
      KVM_SET_ONE_REG,
      KVM_GET_REG_LIST,
      sizeofKvmRun: KVM_RUN_SIZE,
      exitUnionOffset: KVM_RUN_OFF.exit_union,
      sbiRetOffset: KVM_RUN_OFF.riscv_sbi_ret,
      csrRetOffset: KVM_RUN_OFF.riscv_csr_ret_value,
      ...overrides,
    },
    pageSize: 4096,
    arch: 'riscv64',
    kickSignal: () => 38,
  };
}

function host(over: Partial<HostProbe> & { files?: Record<string, unknown>; deviceError?: string } = {}): HostProbe {
  const files = over.files ?? {};
  return {
    platform: 'linux',
    arch: 'riscv64',
    packageRoot: ROOT,
    exists: (p) => p in files,
    loadAddon: (p) => {
      const f = files[p];
      if (f instanceof Error) throw f;
      return f;
    },
    openDevice: (p) => {
      if (over.deviceError) throw Object.assign(new Error(`${over.deviceError}: open '${p}'`), { code: over.deviceError });
    },
    ...over,
  };
}

describe('KVM availability', () => {
  it('names the platform when the host is not linux-riscv64', () => {
    const r = probeKvm('/dev/kvm', host({ arch: 'x64' }));
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/linux-x64.*linux-riscv64/);
  });

  it('lists every addon path it tried when none exists', () => {
    const r = probeKvm('/dev/kvm', host());
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/addon/);
    for (const rel of ADDON_RELATIVE_PATHS) expect(r.tried).toContain(`${join(ROOT, rel)}: not found`);
  });

  it('falls back past a prebuild that fails to load or has a different ABI', () => {
    const files = {
      [join(ROOT, ADDON_RELATIVE_PATHS[0])]: new Error('invalid ELF header'),
      [join(ROOT, ADDON_RELATIVE_PATHS[1])]: goodAddon({ sbiRetOffset: 104 }),
      [join(ROOT, ADDON_RELATIVE_PATHS[2])]: goodAddon(),
    };
    const r = probeKvm('/dev/kvm', host({ files }));
    expect(r.available).toBe(true);
    expect(r.tried[0]).toMatch(/failed to load: invalid ELF header/);
    expect(r.tried[1]).toMatch(/ABI mismatch.*riscv_sbi\.ret offset is 104/);
    expect(r.tried[2]).toMatch(/Debug.*loaded/);
  });

  it.each([
    ['ENOENT', /does not exist.*modprobe kvm/],
    ['EACCES', /kvm group/],
    ['ENODEV', /ENODEV/],
    ['EIO', /cannot be opened \(EIO/],
  ])('explains %s on the device', (code, msg) => {
    const files = { [join(ROOT, ADDON_RELATIVE_PATHS[0])]: goodAddon() };
    const r = probeKvm('/dev/kvm', host({ files, deviceError: code }));
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(msg);
    expect(r.reason).toMatch(/^\/dev\/kvm /);
  });

  it('openKvm throws KvmUnavailableError with every reason, or opens through the addon', () => {
    try {
      openKvm('/dev/kvm', host({ arch: 'arm64' }));
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmUnavailableError);
      expect((e as KvmUnavailableError).reasons.length).toBeGreaterThan(0);
    }
    const files = { [join(ROOT, ADDON_RELATIVE_PATHS[0])]: goodAddon() };
    const hv = openKvm('/dev/kvm', host({ files }));
    expect(hv.apiVersion()).toBe(12);
  });

  it('finds the package root and reports this host honestly', () => {
    expect(packageRoot()).toBe(join(import.meta.dirname, '..', '..'));
    const r = kvmAvailability();
    if (process.platform !== 'linux' || process.arch !== 'riscv64') {
      expect(r.available).toBe(false);
      expect(r.reason).toContain(`${process.platform}-${process.arch}`);
    }
    expect(typeof r.reason).toBe('string');
  });
});
