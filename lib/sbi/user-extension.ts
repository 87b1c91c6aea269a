/**
 * Experimental and vendor SBI extensions supplied by the user (SBI v2.0 §3: EIDs
 * 0x0800_0000-0x08FF_FFFF experimental, 0x0900_0000-0x09FF_FFFF vendor). KVM forwards every call in
 * those ranges to user space (kvm-riscv-abi.md §4.3), so a VMM script can implement its own
 * hypercalls there. Handlers may be sync or async and get the checked guest memory translation.
 */
import { isForwardedRange } from '../abi/sbi.js';
import { notSupported, type SbiCall, type SbiContext, type SbiExtension, type SbiResult } from './registry.js';

export type UserFunctionHandler = (args: readonly bigint[], ctx: SbiContext & { call: SbiCall }) => SbiResult | Promise<SbiResult>;

/**
 * An extension at `eid` (must be in the experimental or vendor range) whose functions are given by
 * FID; an FID with no entry gets SBI_ERR_NOT_SUPPORTED.
 */
export function createUserExtension(opts: {
  name: string;
  eid: number;
  functions: Record<number, UserFunctionHandler> | ((call: SbiCall, ctx: SbiContext) => SbiResult | Promise<SbiResult>);
  probe?: () => number | bigint;
}): SbiExtension {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`createUserExtension: options must be an object { name, eid, functions }, got ${opts === null ? 'null' : typeof opts}`);
  if (typeof opts.name !== 'string' || opts.name === '') throw new TypeError(`createUserExtension: name must be a non-empty string, got ${typeof opts.name === 'string' ? "''" : typeof opts.name}`);
  if (typeof opts.eid !== 'number') throw new TypeError(`${opts.name}: eid must be a number, got ${typeof opts.eid}`);
  if (!Number.isInteger(opts.eid)) throw new RangeError(`${opts.name}: EID ${opts.eid} is not an integer`);
  if (!isForwardedRange(opts.eid)) {
    throw new RangeError(`${opts.name}: EID 0x${opts.eid.toString(16)} is outside the experimental (0x08000000-0x08ffffff) and vendor (0x09000000-0x09ffffff) ranges KVM forwards`);
  }
  const fns = opts.functions;
  if (typeof fns !== 'function') {
    if (typeof fns !== 'object' || fns === null) throw new TypeError(`${opts.name}: functions must be a handler or an object of handlers by FID, got ${fns === null ? 'null' : typeof fns}`);
    for (const [fid, fn] of Object.entries(fns)) {
      // FIDs are a6, an XLEN-wide unsigned value; object keys that are not such numbers never match.
      if (!/^(0|[1-9]\d*)$/.test(fid) || Number(fid) > 0xffffffff) throw new RangeError(`${opts.name}: function key '${fid}' is not an FID (0..0xffffffff)`);
      if (typeof fn !== 'function') throw new TypeError(`${opts.name}: the handler of FID ${fid} must be a function, got ${typeof fn}`);
    }
  }
  if (opts.probe !== undefined && typeof opts.probe !== 'function') throw new TypeError(`${opts.name}: probe must be a function, got ${typeof opts.probe}`);
  return {
    name: opts.name,
    eid: opts.eid,
    probe: opts.probe,
    handle(call, ctx) {
      if (typeof fns === 'function') return fns(call, ctx);
      if (call.functionId > 0xffffffffn) return notSupported();
      const fn = Object.prototype.hasOwnProperty.call(fns, Number(call.functionId)) ? fns[Number(call.functionId)] : undefined;
      return fn ? fn(call.args, { ...ctx, call }) : notSupported();
    },
  };
}
