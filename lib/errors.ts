/**
 * The error shapes of kvm-riscv.
 *
 * - KvmError: an ioctl or syscall failed; `code` is the errno name ("EBUSY"), `errno` its number,
 *   `syscall` the call ("ioctl", "open", "mmap") and the message names the request and what it was
 *   doing, e.g. "KVM_SET_ONE_REG (core.pc): Device or resource busy". The emulator backend throws the
 *   same class with the same codes where KVM would fail, so callers handle one shape.
 * - KvmStateError: an operation is illegal in the object's current state (closed handle, run() while
 *   running, completing an exit that was not delivered). `code` names the state problem.
 * - KvmUnavailableError: the KVM backend cannot be used on this host; `reasons` lists every check
 *   and path that was tried.
 */

export class KvmError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly request: string;
  constructor(opts: { code: string; errno: number; syscall: string; request: string; detail?: string; message?: string }) {
    const what = opts.detail ? `${opts.request} (${opts.detail})` : opts.request;
    super(`${what}: ${opts.message ?? opts.code}`);
    this.name = 'KvmError';
    this.code = opts.code;
    this.errno = opts.errno;
    this.syscall = opts.syscall;
    this.request = what;
  }
}

export type KvmStateCode =
  | 'ERR_KVM_CLOSED'
  | 'ERR_KVM_BUSY'
  | 'ERR_KVM_NO_PENDING_EXIT'
  | 'ERR_KVM_BAD_STATE';

export class KvmStateError extends Error {
  readonly code: KvmStateCode;
  constructor(code: KvmStateCode, message: string) {
    super(message);
    this.name = 'KvmStateError';
    this.code = code;
  }
}

export class KvmUnavailableError extends Error {
  readonly code = 'ERR_KVM_UNAVAILABLE';
  readonly reasons: string[];
  constructor(summary: string, reasons: string[]) {
    super(`KVM backend unavailable: ${summary}${reasons.length ? '\n  ' + reasons.join('\n  ') : ''}`);
    this.name = 'KvmUnavailableError';
    this.reasons = reasons;
  }
}

/** The argument of KVM_CHECK_EXTENSION (api.rst §4.4: an int capability number), checked the same
 * way by both backends: TypeError for a non-number, RangeError outside u32. */
export function checkCap(cap: unknown): asserts cap is number {
  if (typeof cap !== 'number') throw new TypeError(`cap must be a number (a KVM_CAP_* constant), got ${typeof cap}`);
  if (!Number.isInteger(cap) || cap < 0 || cap > 0xffff_ffff) throw new RangeError(`cap must be a u32, got ${cap}`);
}

/** errno number → name for the errors KVM and the emulator produce (Linux asm-generic/errno*.h). */
const ERRNO_NAMES: Record<number, [string, string]> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  4: ['EINTR', 'Interrupted system call'],
  5: ['EIO', 'Input/output error'],
  6: ['ENXIO', 'No such device or address'],
  7: ['E2BIG', 'Argument list too long'],
  9: ['EBADF', 'Bad file descriptor'],
  11: ['EAGAIN', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Cannot allocate memory'],
  13: ['EACCES', 'Permission denied'],
  14: ['EFAULT', 'Bad address'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  19: ['ENODEV', 'No such device'],
  22: ['EINVAL', 'Invalid argument'],
  28: ['ENOSPC', 'No space left on device'],
  95: ['EOPNOTSUPP', 'Operation not supported'],
};

/** Build a KvmError from an errno number, as the emulator backend does to mirror KVM. */
export function kvmErrno(errno: number, request: string, detail?: string, syscall = 'ioctl'): KvmError {
  const [code, message] = ERRNO_NAMES[errno] ?? [`E${errno}`, `errno ${errno}`];
  return new KvmError({ code, errno, syscall, request, detail, message });
}
