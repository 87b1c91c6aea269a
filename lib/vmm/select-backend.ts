/**
 * Backend selection: 'kvm' (the native addon on riscv64 Linux with /dev/kvm), 'emulator' (the
 * TypeScript software KVM) or 'auto' (KVM when lib/backend/kvm reports it available, else the
 * emulator). Both backends are imported lazily, so using one never loads the other (the addon
 * loader does filesystem probing; the emulator is a large module graph).
 */
import type { Hypervisor } from '../backend/types.js';
import type { TimeMode } from '../backend/emulator/clock.js';
import { KvmUnavailableError } from '../errors.js';
import { checkOptionsObject, describeValue } from '../option-checks.js';

export type BackendChoice = 'auto' | 'kvm' | 'emulator';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'kvm', 'emulator'];
const isBackendChoice = (s: string): s is BackendChoice => (BACKEND_CHOICES as readonly string[]).includes(s);

/** lib/backend/kvm/loader.ts KvmAvailability, the fields used here. */
export interface KvmAvailability {
  available: boolean;
  /** One sentence: what is missing. */
  reason?: string;
  /** Every addon path and device checked. */
  tried?: readonly string[];
}

interface KvmModule {
  openKvm(): Hypervisor | Promise<Hypervisor>;
  kvmAvailability(): KvmAvailability | Promise<KvmAvailability>;
}
interface EmulatorModule {
  createEmulator(options?: { time?: TimeMode }): Hypervisor | Promise<Hypervisor>;
}

// Literal specifiers, so that a bundler (scripts/bundle-cli.mjs) takes both backends into the
// bundle and still evaluates each only when it is first chosen.
async function importKvm(): Promise<KvmModule> {
  return (await import('../backend/kvm/index.js')) as KvmModule;
}
async function importEmulator(): Promise<EmulatorModule> {
  return (await import('../backend/emulator/index.js')) as EmulatorModule;
}

/** What 'auto' would pick, and why KVM is unavailable when it is. */
export async function kvmAvailabilityLazy(): Promise<KvmAvailability> {
  try {
    return await (await importKvm()).kvmAvailability();
  } catch (e) {
    return { available: false, reason: `lib/backend/kvm failed to load: ${e instanceof Error ? e.message : String(e)}`, tried: [] };
  }
}

export interface OpenHypervisorOptions {
  backend?: BackendChoice;
  /** How guest time runs if the emulator is chosen (lib/backend/emulator/clock.ts): 'deterministic'
   * (default: it follows retired instructions and skips idle waits, so runs repeat exactly) or
   * 'realtime' (the host's clock). KVM always runs in real time; there this is ignored. */
  emulatorTime?: TimeMode;
}

export async function openHypervisor(opts: OpenHypervisorOptions = {}): Promise<Hypervisor> {
  checkOptionsObject('openHypervisor', opts);
  // Only a missing backend means 'auto'; null is a wrong value, as in MachineConfig.
  const backend: unknown = opts.backend === undefined ? 'auto' : opts.backend;
  if (typeof backend !== 'string') throw new TypeError(`backend must be one of ${BACKEND_CHOICES.join(', ')}; got ${describeValue(backend)}`);
  if (!isBackendChoice(backend)) throw new RangeError(`backend must be one of ${BACKEND_CHOICES.join(', ')}; got '${backend}'`);
  const time: unknown = opts.emulatorTime ?? 'deterministic';
  if (time !== 'deterministic' && time !== 'realtime') throw new (typeof time === 'string' ? RangeError : TypeError)(`emulatorTime must be 'deterministic' or 'realtime'; got ${describeValue(time)}`);
  if (backend === 'emulator') return (await importEmulator()).createEmulator({ time });
  if (backend === 'kvm') {
    const kvm = await importKvm();
    const a = await kvm.kvmAvailability();
    if (!a.available) throw new KvmUnavailableError(a.reason ?? 'unavailable', [...(a.tried ?? [])]);
    return kvm.openKvm();
  }
  const a = await kvmAvailabilityLazy();
  if (a.available) return (await importKvm()).openKvm();
  return (await importEmulator()).createEmulator({ time });
}
