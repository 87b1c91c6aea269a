// openHypervisor() and the public entry point (lib/index.ts).
import { describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';

describe('openHypervisor', () => {
  it("'emulator' gives the emulator backend", async () => {
    const hv = await api.openHypervisor({ backend: 'emulator' });
    try {
      expect(hv.backend).toBe('emulator');
      expect(hv.apiVersion()).toBe(12);
    } finally {
      hv.close();
    }
  });

  it("'auto' follows kvmAvailability()", async () => {
    const hv = await api.openHypervisor({ backend: 'auto' });
    try {
      expect(hv.backend).toBe(api.kvmAvailability().available ? 'kvm' : 'emulator');
    } finally {
      hv.close();
    }
  });

  it.skipIf(api.kvmAvailability().available)("'kvm' where KVM is unavailable throws KvmUnavailableError with reasons (skipped on KVM hosts)", async () => {
    const err = await api.openHypervisor({ backend: 'kvm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.KvmUnavailableError);
    expect((err as api.KvmUnavailableError).reasons.length).toBeGreaterThan(0);
  });

  it('an unknown backend name is a RangeError', async () => {
    await expect(api.openHypervisor({ backend: 'xen' as never })).rejects.toThrow(/backend must be one of auto, kvm, emulator/);
  });
});

describe('public exports', () => {
  it('exposes the backends, the VMM pieces, boot helpers and ABI names', () => {
    for (const name of [
      'openHypervisor', 'openKvm', 'createEmulator', 'kvmAvailability', 'KvmError', 'KvmStateError', 'KvmUnavailableError',
      'regId', 'REG_PC', 'SBI_EXT_DBCN', 'SbiRegistry', 'createDbcnExtension', 'createUserExtension', 'GuestAddressSpace',
      'MmioBus', 'dispatchExit', 'runVcpus', 'runBareMetal', 'FdtBuilder', 'parseFdt', 'loadKernelImage', 'buildMachineFdt',
      'RAM_BASE', 'MEMMAP',
    ]) expect(api, name).toHaveProperty(name);
  });
});
