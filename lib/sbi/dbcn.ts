/**
 * The Debug Console extension (DBCN, EID 0x4442434E "DBCN"), SBI v2.0 chapter 12.
 *
 *   FID 0 console_write(num_bytes, base_addr_lo, base_addr_hi) → bytes written
 *   FID 1 console_read(num_bytes, base_addr_lo, base_addr_hi)  → bytes read
 *   FID 2 console_write_byte(byte)                             → 0
 *
 * The buffer is given by guest physical address. On rv64, base_addr_lo holds the whole address and
 * base_addr_hi must be 0 (a non-zero high word would put the buffer above 2^64). A buffer that is
 * not entirely inside guest RAM gets SBI_ERR_INVALID_PARAM (§12.1, §12.2: "the memory pointed to by
 * the num_bytes, base_addr_lo and base_addr_hi parameters does not satisfy the requirements");
 * console_read into a read-only region gets the same. A zero-length request succeeds with 0, as
 * kvmtool and QEMU answer it. Both calls are non-blocking and may transfer fewer bytes than asked
 * (§12.1 "partial/no writes"), which bounds the work one guest call can cause: at most
 * MAX_TRANSFER bytes per call.
 */
import {
  SBI_ERR_FAILED, SBI_ERR_INVALID_PARAM, SBI_EXT_DBCN, SBI_EXT_DBCN_CONSOLE_READ,
  SBI_EXT_DBCN_CONSOLE_WRITE, SBI_EXT_DBCN_CONSOLE_WRITE_BYTE,
} from '../abi/sbi.js';
import { notSupported, success, type SbiCall, type SbiContext, type SbiExtension, type SbiResult } from './registry.js';

/** The console ends a console extension is given, checked at creation: a missing write() would
 * otherwise only show as SBI_ERR_FAILED once the guest prints. */
export function checkConsoleEnds(what: string, opts: { output?: unknown; input?: unknown }): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${what}: options must be an object { output, input? }, got ${opts === null ? 'null' : typeof opts}`);
  const { output, input } = opts as { output?: { write?: unknown }; input?: { read?: unknown } };
  if (typeof output !== 'object' || output === null || typeof output.write !== 'function') {
    throw new TypeError(`${what}: output must be an object with a write(bytes) method, got ${output === null ? 'null' : typeof output}`);
  }
  if (input !== undefined && (typeof input !== 'object' || input === null || typeof input.read !== 'function')) {
    throw new TypeError(`${what}: input must be an object with a read(max) method, got ${input === null ? 'null' : typeof input}`);
  }
}

/** Bytes moved per call at most; the guest loops for more, as the spec expects it to. */
export const DBCN_MAX_TRANSFER = 64 * 1024;

export interface ConsoleOutput {
  /** Takes the bytes synchronously (it may buffer). */
  write(bytes: Uint8Array): void;
}

export interface ConsoleInput {
  /** Up to `max` bytes available now, without blocking (empty when none). */
  read(max: number): Uint8Array;
}

const invalidParam = (): SbiResult => ({ error: SBI_ERR_INVALID_PARAM, value: 0 });

/** Guest buffer address from (lo, hi) on rv64, or undefined when it does not fit 64 bits. */
function bufferAddress(lo: bigint, hi: bigint): bigint | undefined {
  return hi === 0n ? lo : undefined;
}

export function createDbcnExtension(opts: { output: ConsoleOutput; input?: ConsoleInput }): SbiExtension {
  checkConsoleEnds('createDbcnExtension', opts);
  const write = (call: SbiCall, ctx: SbiContext): SbiResult => {
    const [numBytes = 0n, lo = 0n, hi = 0n] = call.args;
    if (numBytes === 0n) return success(0);
    const base = bufferAddress(lo, hi);
    if (base === undefined) return invalidParam();
    // The whole buffer the guest names must be accessible, not only the part sent now (§12.1).
    if (numBytes > BigInt(Number.MAX_SAFE_INTEGER) || !ctx.memory.resolve(base, Number(numBytes))) return invalidParam();
    const len = numBytes > BigInt(DBCN_MAX_TRANSFER) ? DBCN_MAX_TRANSFER : Number(numBytes);
    const bytes = ctx.memory.readBytes(base, len);
    if (!bytes) return invalidParam();
    try {
      opts.output.write(bytes);
    } catch {
      return { error: SBI_ERR_FAILED, value: 0 }; // §12.1: I/O errors give SBI_ERR_FAILED
    }
    return success(len);
  };

  const read = (call: SbiCall, ctx: SbiContext): SbiResult => {
    const [numBytes = 0n, lo = 0n, hi = 0n] = call.args;
    if (numBytes === 0n) return success(0);
    const base = bufferAddress(lo, hi);
    if (base === undefined) return invalidParam();
    if (numBytes > BigInt(Number.MAX_SAFE_INTEGER)) return invalidParam();
    const region = ctx.memory.resolve(base, Number(numBytes));
    if (!region || region.readonly) return invalidParam();
    const len = numBytes > BigInt(DBCN_MAX_TRANSFER) ? DBCN_MAX_TRANSFER : Number(numBytes);
    let data: Uint8Array;
    try {
      data = opts.input ? opts.input.read(len) : new Uint8Array(0);
    } catch {
      return { error: SBI_ERR_FAILED, value: 0 };
    }
    if (data.length > len) data = data.subarray(0, len);
    if (data.length > 0) region.writeBytes(base, data);
    return success(data.length);
  };

  return {
    name: 'DBCN',
    eid: SBI_EXT_DBCN,
    handle(call, ctx) {
      switch (call.functionId) {
        case BigInt(SBI_EXT_DBCN_CONSOLE_WRITE): return write(call, ctx);
        case BigInt(SBI_EXT_DBCN_CONSOLE_READ): return read(call, ctx);
        case BigInt(SBI_EXT_DBCN_CONSOLE_WRITE_BYTE): {
          // §12.3: only the low 8 bits of the argument are the byte.
          try {
            opts.output.write(Uint8Array.of(Number((call.args[0] ?? 0n) & 0xffn)));
          } catch {
            return { error: SBI_ERR_FAILED, value: 0 };
          }
          return success(0);
        }
        default: return notSupported();
      }
    },
  };
}
