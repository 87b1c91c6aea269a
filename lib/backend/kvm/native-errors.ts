/**
 * Native failures → the error shapes of lib/errors.ts. The addon throws plain Errors carrying
 * errno/syscall/request; here they become KvmError (with the detail only TypeScript knows, such as
 * the register name) or KvmStateError. TypeError and RangeError pass through unchanged.
 */
import { KvmStateError, kvmErrno, type KvmStateCode } from '../../errors.js';

const STATE_CODES: ReadonlySet<string> = new Set<KvmStateCode>([
  'ERR_KVM_CLOSED',
  'ERR_KVM_BUSY',
  'ERR_KVM_NO_PENDING_EXIT',
  'ERR_KVM_BAD_STATE',
]);

/** Converts what the addon threw; `detail` names what was being done, e.g. "core.pc". */
export function fromNativeError(e: unknown, detail?: string): unknown {
  if (typeof e !== 'object' || e === null) return e;
  const err = e as { errno?: unknown; request?: unknown; syscall?: unknown; code?: unknown; message?: unknown };
  if (typeof err.errno === 'number' && typeof err.request === 'string') {
    const syscall = typeof err.syscall === 'string' ? err.syscall : 'ioctl';
    return kvmErrno(err.errno, err.request, detail, syscall);
  }
  if (typeof err.code === 'string' && STATE_CODES.has(err.code) && !(e instanceof KvmStateError)) {
    return new KvmStateError(err.code as KvmStateCode, String(err.message));
  }
  return e;
}

/** Runs a native call, converting what it throws. */
export function nativeCall<T>(fn: () => T, detail?: string): T {
  try {
    return fn();
  } catch (e) {
    throw fromNativeError(e, detail);
  }
}
