/**
 * What the device tree says about a hart, read from its vCPU's ONE_REG registers as kvmtool and
 * QEMU do (kvm-riscv-abi.md §5.1, §5.3): config.isa for the single-letter extensions, one
 * isa_ext.* register per multi-letter extension (ENOENT or 0 = absent), config.satp_mode for
 * mmu-type, config.zicbo*_block_size for the cache-block sizes, timer.frequency for
 * timebase-frequency.
 */
import { ISA_EXTS, regId } from '../abi/regs.js';
import { checkArray, checkInteger, checkMethods, describeValue, isObject } from '../option-checks.js';

export interface HartDescription {
  hartId: number;
  /** config.isa: bit n = letter 'a' + n. */
  isaBits: bigint;
  /** Lower-case names of the multi-letter extensions whose isa_ext register reads 1. */
  multiLetterExtensions: string[];
  /** config.satp_mode (8 Sv39, 9 Sv48, 10 Sv57), undefined when the register is missing. */
  satpMode?: number;
  cbomBlockSize?: number;
  cbozBlockSize?: number;
}

/** The slice of a Vcpu this needs (lib/backend/types.ts Vcpu satisfies it). */
export interface RegisterReader {
  readonly id: number;
  getReg(id: bigint): bigint;
}

/** The vCPU argument: an object with getReg() (and, where the hart id is read, an integer id). */
function checkRegisterReader(who: string, vcpu: unknown, needsId: boolean): void {
  checkMethods(who, 'vcpu', vcpu, ['getReg'], false);
  if (needsId) checkInteger(who, 'vcpu.id', (vcpu as { id: unknown }).id, 0, 0xffff_ffff);
}

/** A HartDescription as describeHart() makes it; callers may build their own, so every field the
 * device-tree writers read is checked where it is given, not where dtc or Linux would trip on it. */
export function checkHartDescription(who: string, name: string, desc: unknown): asserts desc is HartDescription {
  if (!isObject(desc)) throw new TypeError(`${who}: ${name} must be a HartDescription object, got ${describeValue(desc)}`);
  // reg of a cpu node is the hart id, one cell (cpus.yaml; /cpus #address-cells = 1).
  checkInteger(who, `${name}.hartId`, desc.hartId, 0, 0xffff_ffff);
  if (typeof desc.isaBits !== 'bigint') throw new TypeError(`${who}: ${name}.isaBits must be a bigint (config.isa), got ${describeValue(desc.isaBits)}`);
  const multi = desc.multiLetterExtensions;
  checkArray(who, `${name}.multiLetterExtensions`, multi);
  multi.forEach((m: unknown, i) => {
    if (typeof m !== 'string') throw new TypeError(`${who}: ${name}.multiLetterExtensions[${i}] must be a string, got ${describeValue(m)}`);
    // Unprivileged spec, "ISA Extension Naming Conventions": lower-case letters and digits; a '_'
    // or NUL would change how the riscv,isa string splits.
    if (!/^[a-z][a-z0-9]+$/.test(m)) throw new RangeError(`${who}: ${name}.multiLetterExtensions[${i}] ${describeValue(m)} is not a multi-letter extension name`);
  });
  if (desc.satpMode !== undefined) checkInteger(who, `${name}.satpMode`, desc.satpMode, 0, 15);
  if (desc.cbomBlockSize !== undefined) checkInteger(who, `${name}.cbomBlockSize`, desc.cbomBlockSize, 0, 0xffff_ffff);
  if (desc.cbozBlockSize !== undefined) checkInteger(who, `${name}.cbozBlockSize`, desc.cbozBlockSize, 0, 0xffff_ffff);
}

function tryReg(vcpu: RegisterReader, name: string): bigint | undefined {
  try {
    return vcpu.getReg(regId(name));
  } catch {
    return undefined; // ENOENT (or EINVAL on older kernels): the host does not have it.
  }
}

export function describeHart(vcpu: RegisterReader): HartDescription {
  checkRegisterReader('describeHart', vcpu, true);
  const isaBits = vcpu.getReg(regId('config.isa'));
  const multiLetterExtensions: string[] = [];
  for (const name of ISA_EXTS) {
    if (name.length === 1) continue; // single letters come from config.isa
    if (tryReg(vcpu, `isa_ext.${name}`) === 1n) multiLetterExtensions.push(name.toLowerCase());
  }
  const satp = tryReg(vcpu, 'config.satp_mode');
  const desc: HartDescription = { hartId: vcpu.id, isaBits, multiLetterExtensions, satpMode: satp === undefined ? undefined : Number(satp) };
  if (multiLetterExtensions.includes('zicbom')) {
    const v = tryReg(vcpu, 'config.zicbom_block_size');
    if (v !== undefined) desc.cbomBlockSize = Number(v);
  }
  if (multiLetterExtensions.includes('zicboz')) {
    const v = tryReg(vcpu, 'config.zicboz_block_size');
    if (v !== undefined) desc.cbozBlockSize = Number(v);
  }
  return desc;
}

/** timer.frequency, the DT timebase-frequency (kvm-riscv-abi.md fact 10). */
export function readTimebaseFrequency(vcpu: RegisterReader): number {
  checkRegisterReader('readTimebaseFrequency', vcpu, false);
  return Number(vcpu.getReg(regId('timer.frequency')));
}

/**
 * Canonical order of single-letter extensions (RISC-V unprivileged ISA, "ISA Extension Naming
 * Conventions": the table order is the order in the name string, e.g. rv64imafdcvh).
 */
export const CANONICAL_SINGLE_LETTER_ORDER = 'iemafdqlcbkjtpvh';

export function singleLetterExtensions(isaBits: bigint): string[] {
  const present = (c: string): boolean => ((isaBits >> BigInt(c.charCodeAt(0) - 97)) & 1n) === 1n;
  const ordered = [...CANONICAL_SINGLE_LETTER_ORDER].filter(present);
  // Letters outside the table (none expected from KVM) go last, alphabetically.
  for (let n = 0; n < 26; n++) {
    const c = String.fromCharCode(97 + n);
    if (present(c) && !ordered.includes(c)) ordered.push(c);
  }
  return ordered;
}

/**
 * Canonical order of multi-letter extensions (same chapter): Z extensions first, grouped by the
 * category their second letter names in the single-letter order, alphabetically within a group;
 * then S extensions alphabetically; then anything else (X) alphabetically.
 */
export function sortMultiLetterExtensions(names: readonly string[]): string[] {
  const rank = (n: string): [number, number] => {
    if (n.startsWith('z')) {
      const cat = CANONICAL_SINGLE_LETTER_ORDER.indexOf(n[1] ?? '');
      return [0, cat < 0 ? CANONICAL_SINGLE_LETTER_ORDER.length : cat];
    }
    if (n.startsWith('s')) return [1, 0];
    return [2, 0];
  };
  return [...names].sort((a, b) => {
    const [ga, ca] = rank(a);
    const [gb, cb] = rank(b);
    return ga - gb || ca - cb || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/** riscv,isa: "rv64" + single letters + "_ext" for each multi-letter extension, canonical order. */
export function isaString(desc: HartDescription, xlen = 64): string {
  checkHartDescription('isaString', 'desc', desc);
  if (xlen !== 32 && xlen !== 64 && xlen !== 128) {
    if (typeof xlen !== 'number') throw new TypeError(`isaString: xlen must be a number, got ${describeValue(xlen)}`);
    throw new RangeError(`isaString: xlen must be 32, 64 or 128, got ${xlen}`);
  }
  const multi = sortMultiLetterExtensions(desc.multiLetterExtensions);
  return `rv${xlen}${singleLetterExtensions(desc.isaBits).join('')}${multi.map((m) => `_${m}`).join('')}`;
}

/** riscv,isa-extensions (the 2023 binding): single letters, then multi-letter names. */
export function isaExtensionList(desc: HartDescription): string[] {
  checkHartDescription('isaExtensionList', 'desc', desc);
  return [...singleLetterExtensions(desc.isaBits), ...sortMultiLetterExtensions(desc.multiLetterExtensions)];
}

/** mmu-type from config.satp_mode (kvmtool riscv/fdt.c); Sv39 when unknown, as kvmtool does. */
export function mmuType(satpMode: number | undefined): string {
  // Unknown numbers fall back as kvmtool's do; a value of another type is the caller's mistake.
  if (satpMode !== undefined && typeof satpMode !== 'number') throw new TypeError(`mmuType: satpMode must be a number or undefined, got ${describeValue(satpMode)}`);
  switch (satpMode) {
    case 0: return 'riscv,none';
    case 9: return 'riscv,sv48';
    case 10: return 'riscv,sv57';
    default: return 'riscv,sv39';
  }
}
