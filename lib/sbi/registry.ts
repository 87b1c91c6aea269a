/**
 * User-space SBI policy: a registry of extensions keyed by extension id (EID).
 *
 * KVM answers most SBI calls in the kernel and forwards only a few to user space (kvm-riscv-abi.md
 * §4.3): legacy console putchar/getchar (hosts with CONFIG_RISCV_SBI_V01), DBCN once enabled, every
 * EID in the experimental (0x0800_0000-0x08FF_FFFF) and vendor (0x0900_0000-0x09FF_FFFF) ranges, and
 * BASE probe_extension of such an EID. This registry answers those:
 *   - a call whose EID has no registered extension, or whose FID the extension does not implement,
 *     gets SBI_ERR_NOT_SUPPORTED (SBI v2.0 §3: "the SBI implementation ... must return
 *     SBI_ERR_NOT_SUPPORTED" for an unknown extension or function);
 *   - BASE probe_extension (§4.7) answers from the registry: the extension's probe value (non-zero
 *     when present; 1 by default) or 0.
 * Handlers may be sync or async; `handle()` returns a promise only when the handler did.
 */
import {
  SBI_ERR_FAILED, SBI_ERR_NOT_SUPPORTED, SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, SBI_SUCCESS,
} from '../abi/sbi.js';
import type { GuestAddressSpace } from './guest-memory.js';
import { describeValue, isObject } from '../option-checks.js';

export interface SbiCall {
  /** a7 */
  extensionId: number;
  /** a6 */
  functionId: bigint;
  /** a0..a5 as u64 */
  args: readonly bigint[];
  /** The calling hart. */
  hartId: number;
}

/** sbiret (SBI v2.0 §3.1): error in a0, value in a1. Signed errors are given as negative numbers. */
export interface SbiResult {
  error: number | bigint;
  value: number | bigint;
}

export interface SbiContext {
  /** Checked guest-physical translation for pointer arguments. */
  memory: GuestAddressSpace;
}

export type SbiHandler = (call: SbiCall, ctx: SbiContext) => SbiResult | Promise<SbiResult>;

export interface SbiExtension {
  /** Short name for messages ("DBCN"). */
  name: string;
  /** The EID, or an inclusive [first, last] range. */
  eid: number | readonly [number, number];
  /** What probe_extension returns for it (non-zero; SBI §4.7 lets it carry extension-specific data). */
  probe?: () => number | bigint;
  handle: SbiHandler;
}

export const notSupported = (): SbiResult => ({ error: SBI_ERR_NOT_SUPPORTED, value: 0 });
export const success = (value: number | bigint = 0): SbiResult => ({ error: SBI_SUCCESS, value });

function checkEid(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${typeof v === 'bigint' ? `${v}n` : typeof v}`);
  // SBI v2.0 §3: the EID goes in a7, a 32-bit value (XLEN-wide register, upper bits ignored).
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} ${v} is not a 32-bit extension id`);
  return v;
}

/** [first, last] EIDs of an extension, each checked. */
function eidRange(ext: SbiExtension): [number, number] {
  const { eid, name } = ext;
  if (typeof eid === 'number' || !Array.isArray(eid)) {
    const v = checkEid(eid, `${name}: EID`);
    return [v, v];
  }
  if (eid.length !== 2) throw new TypeError(`${name}: an EID range must be [first, last], got ${eid.length} element${eid.length === 1 ? '' : 's'}`);
  return [checkEid(eid[0], `${name}: first EID`), checkEid(eid[1], `${name}: last EID`)];
}

/** The shape of a registration, checked before anything is stored: a registry never holds an
 * extension that would throw when the guest calls it for a reason other than its own handler. */
function checkExtensionShape(ext: unknown): asserts ext is SbiExtension {
  if (typeof ext !== 'object' || ext === null) throw new TypeError(`an SBI extension must be an object { name, eid, handle }, got ${ext === null ? 'null' : typeof ext}`);
  const { name, handle, probe } = ext as Record<string, unknown>;
  if (typeof name !== 'string') throw new TypeError(`SBI extension name must be a string, got ${typeof name}`);
  if (name === '') throw new RangeError('SBI extension name must not be empty');
  if (typeof handle !== 'function') throw new TypeError(`${name}: handle must be a function (call, ctx) => SbiResult, got ${typeof handle}`);
  if (probe !== undefined && typeof probe !== 'function') throw new TypeError(`${name}: probe must be a function returning the probe value, got ${typeof probe}`);
}

export class SbiRegistry {
  private readonly extensions: SbiExtension[] = [];
  /** Calls answered with NOT_SUPPORTED because nothing was registered for them. */
  unsupportedCalls = 0;

  /** Adds an extension. TypeError for a malformed one, RangeError for a bad or taken EID or name;
   * the registry is unchanged when it throws. */
  register(ext: SbiExtension): this {
    checkExtensionShape(ext);
    const [lo, hi] = eidRange(ext);
    if (hi < lo) throw new RangeError(`${ext.name}: EID range [0x${lo.toString(16)}, 0x${hi.toString(16)}] is empty`);
    if (lo <= SBI_EXT_BASE && hi >= SBI_EXT_BASE) {
      throw new RangeError(`${ext.name}: BASE (0x10) is answered by the registry itself`);
    }
    for (const other of this.extensions) {
      const [olo, ohi] = typeof other.eid === 'number' ? [other.eid, other.eid] : other.eid;
      if (lo <= ohi && olo <= hi) throw new RangeError(`${ext.name}: EIDs overlap those of ${other.name}`);
      // unregister() goes by name, so a name must say which extension it means.
      if (other.name === ext.name) throw new RangeError(`${ext.name}: an extension of that name is already registered`);
    }
    this.extensions.push(ext);
    return this;
  }

  unregister(name: string): boolean {
    if (typeof name !== 'string') throw new TypeError(`SbiRegistry.unregister: name must be a string, got ${describeValue(name)}`);
    const i = this.extensions.findIndex((e) => e.name === name);
    if (i < 0) return false;
    this.extensions.splice(i, 1);
    return true;
  }

  find(eid: number): SbiExtension | undefined {
    // A string would compare by coercion against the ranges ('9' >= 8) and find something.
    if (typeof eid !== 'number') throw new TypeError(`SbiRegistry.find: eid must be a number, got ${describeValue(eid)}`);
    return this.extensions.find((e) => (typeof e.eid === 'number' ? e.eid === eid : eid >= e.eid[0] && eid <= e.eid[1]));
  }

  /** BASE probe_extension answer for `eid`: 0 when absent. */
  probe(eid: number | bigint): number | bigint {
    if (typeof eid !== 'bigint' && typeof eid !== 'number') throw new TypeError(`SbiRegistry.probe: eid must be a number or bigint, got ${describeValue(eid)}`);
    if (typeof eid === 'bigint') {
      if (eid < 0n || eid > 0xffffffffn) return 0;
      eid = Number(eid);
    }
    const ext = this.find(eid);
    if (!ext) return 0;
    return ext.probe ? ext.probe() : 1;
  }

  /** Answers one forwarded SBI call. Never throws for guest-controlled input. */
  handle(call: SbiCall, ctx: SbiContext): SbiResult | Promise<SbiResult> {
    // The host's arguments (dispatchExit builds them from an exit), checked once per call with the
    // message built only when one is wrong: a null ctx would otherwise reach the handler, throw
    // there, and turn into SBI_ERR_FAILED for the guest plus a warning blaming the extension.
    if (typeof call !== 'object' || call === null || typeof call.extensionId !== 'number' || typeof call.functionId !== 'bigint'
      || !Array.isArray(call.args) || typeof ctx !== 'object' || ctx === null || typeof ctx.memory?.resolve !== 'function') {
      badHandleArguments(call, ctx);
    }
    if (call.extensionId === SBI_EXT_BASE) {
      if (call.functionId === BigInt(SBI_EXT_BASE_PROBE_EXT)) return success(this.probe(call.args[0] ?? 0n));
      this.unsupportedCalls++;
      return notSupported();
    }
    const ext = this.find(call.extensionId);
    if (!ext) {
      this.unsupportedCalls++;
      return notSupported();
    }
    try {
      const r = ext.handle(call, ctx);
      if (r instanceof Promise) return r.catch((e: unknown) => handlerFailed(ext, e));
      return r;
    } catch (e) {
      return handlerFailed(ext, e);
    }
  }
}

/** Throws the TypeError naming what is wrong with handle()'s arguments. */
function badHandleArguments(call: unknown, ctx: unknown): never {
  const who = 'SbiRegistry.handle';
  if (!isObject(call)) throw new TypeError(`${who}: call must be an object { extensionId, functionId, args, hartId }, got ${describeValue(call)}`);
  if (typeof call.extensionId !== 'number') throw new TypeError(`${who}: call.extensionId must be a number, got ${describeValue(call.extensionId)}`);
  if (typeof call.functionId !== 'bigint') throw new TypeError(`${who}: call.functionId must be a bigint, got ${describeValue(call.functionId)}`);
  if (!Array.isArray(call.args)) throw new TypeError(`${who}: call.args must be an array of bigints, got ${describeValue(call.args)}`);
  if (!isObject(ctx)) throw new TypeError(`${who}: ctx must be an object { memory }, got ${describeValue(ctx)}`);
  throw new TypeError(`${who}: ctx.memory must be a GuestAddressSpace, got ${describeValue(ctx.memory)}`);
}

/**
 * A user handler that throws is a host bug, not the guest's: the guest gets SBI_ERR_FAILED (§3.2)
 * and the error is reported once on stderr instead of taking the VMM down.
 */
function handlerFailed(ext: SbiExtension, e: unknown): SbiResult {
  process.emitWarning(`SBI extension ${ext.name} handler threw: ${e instanceof Error ? e.message : String(e)}`, { code: 'KVM_RISCV_SBI_HANDLER' });
  return { error: SBI_ERR_FAILED, value: 0 };
}
