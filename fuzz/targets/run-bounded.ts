// run() under a stop timer, for the targets that drive the emulator with random guest state: a
// guest may spin forever, so every run ends by `ms` at the latest ('interrupted'). The two errors
// KVM_RUN itself fails with for guest behaviour (fetch from non-RAM: EOPNOTSUPP; misaligned MMIO:
// EIO, kvm-riscv-abi.md §1.6) are returned as values; anything else is a finding and is thrown.
import type { Vcpu, VcpuExit } from '../../lib/backend/types.js';
import { KvmError } from '../../lib/errors.js';

export async function runBounded(vcpu: Vcpu, ms: number): Promise<VcpuExit | KvmError> {
  const timer = setTimeout(() => vcpu.stop(), ms);
  try {
    return await vcpu.run();
  } catch (e) {
    if (e instanceof KvmError && (e.code === 'EOPNOTSUPP' || e.code === 'EIO')) return e;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
