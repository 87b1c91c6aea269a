/**
 * Checks for the arguments and options objects of public constructors and functions (devices, the
 * MMIO bus, the run loop, bare-metal runs, backend selection, boot loaders, SBI registration,
 * Machine), so a wrong argument fails where it is given, as the error classes of the API say:
 * TypeError for a value of the wrong type, RangeError for a value of the right type out of range,
 * the message naming the argument and the value. Without them a bad option surfaces later as
 * "Cannot read properties of null" or, worse, as an exception the guest triggers at its first
 * device access.
 */

/** A bad value, for messages: strings quoted, bigints with their n, objects by kind (the same
 * wording everywhere, Machine's config checks included). */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  return String(v);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `opts` is an options object: TypeError otherwise (null, a string, an array), naming `who`. */
export function checkOptionsObject(who: string, opts: unknown): void {
  if (!isObject(opts)) throw new TypeError(`${who}: options must be an object, got ${describeValue(opts)}`);
}

/** `value` is a function, or undefined when `optional`. */
export function checkFunction(who: string, name: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'function') throw new TypeError(`${who}: ${name} must be a function, got ${describeValue(value)}`);
}

/** `value` is a boolean, or undefined. */
export function checkOptionalBoolean(who: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${who}: ${name} must be a boolean, got ${describeValue(value)}`);
}

/** `value` is an object whose `methods` are functions (duck typing: an interface such as IrqLine
 * or DmaMemory, which callers implement themselves), or undefined when `optional`. */
export function checkMethods(who: string, name: string, value: unknown, methods: readonly string[], optional: boolean): void {
  if (value === undefined && optional) return;
  const shape = `an object with ${methods.map((m) => `${m}()`).join(', ')}`;
  // An array is never one (and [] has a map(), which a bus check would otherwise accept).
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${who}: ${name} must be ${shape}, got ${describeValue(value)}`);
  for (const m of methods) {
    const f = (value as Record<string, unknown>)[m];
    if (typeof f !== 'function') throw new TypeError(`${who}: ${name} must be ${shape}; its ${m} is ${describeValue(f)}`);
  }
}

/** An integer `name` in [min, max]: TypeError for a non-number, RangeError otherwise. */
export function checkInteger(who: string, name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${who}: ${name} must be a number, got ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${who}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
}

/** The longest delay setTimeout honours: Node.js timers fire a larger (or non-finite) delay after
 * 1 ms instead (Node.js timers documentation, setTimeout). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** An optional wall-clock limit in milliseconds: a positive number up to MAX_TIMEOUT_MS. Zero,
 * negative, NaN and Infinity are refused rather than turned into 1 ms by setTimeout. */
export function checkTimeoutMs(who: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number') throw new TypeError(`${who}: timeoutMs must be a number of milliseconds, got ${describeValue(value)}`);
  if (!(value > 0)) throw new RangeError(`${who}: timeoutMs ${value} is not positive`);
  if (value > MAX_TIMEOUT_MS) throw new RangeError(`${who}: timeoutMs ${value} is more than ${MAX_TIMEOUT_MS} (about 24.8 days), the longest timer Node.js keeps`);
}

/** An optional AbortSignal. */
export function checkOptionalSignal(who: string, value: unknown): void {
  if (value !== undefined && !(value instanceof AbortSignal)) throw new TypeError(`${who}: signal must be an AbortSignal, got ${describeValue(value)}`);
}

/** A string, or undefined when `optional`. */
export function checkString(who: string, name: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string') throw new TypeError(`${who}: ${name} must be a string, got ${describeValue(value)}`);
}

/** An array (its elements are the caller's to check). */
export function checkArray(who: string, name: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${who}: ${name} must be an array, got ${describeValue(value)}`);
}

/** A Uint8Array (a Buffer is one), or undefined when `optional`. */
export function checkBytes(who: string, name: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return;
  if (!(value instanceof Uint8Array)) throw new TypeError(`${who}: ${name} must be a Uint8Array, got ${describeValue(value)}`);
}

/** A bigint in [0, 2^64 - 1]: a guest physical address or a register-sized value. */
export function checkU64(who: string, name: string, value: unknown): asserts value is bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${who}: ${name} must be a bigint, got ${describeValue(value)}`);
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${who}: ${name} must be a u64, got ${value}n`);
}

/**
 * Host bytes given to a device's input(): a Uint8Array, or an array of byte values 0-255. Checked
 * whole before anything is queued, so a bad call queues nothing. A string is refused (its
 * characters would read as 0) with the way to turn it into bytes.
 */
export function checkInputBytes(who: string, data: unknown): void {
  if (data instanceof Uint8Array) return;
  if (!Array.isArray(data)) {
    const hint = typeof data === 'string' ? ' (encode a string first: Buffer.from(s) or new TextEncoder().encode(s))' : '';
    throw new TypeError(`${who}: data must be a Uint8Array or an array of byte values, got ${describeValue(data)}${hint}`);
  }
  for (let i = 0; i < data.length; i++) {
    const b: unknown = data[i];
    if (typeof b !== 'number') throw new TypeError(`${who}: data[${i}] must be a byte value (a number), got ${describeValue(b)}`);
    if (!Number.isInteger(b) || b < 0 || b > 0xff) throw new RangeError(`${who}: data[${i}] must be a byte value in [0, 255], got ${b}`);
  }
}

/** A plain object argument `name` (not null, not an array); `shape` says what it holds, e.g.
 * '{ base, size }'. */
export function checkObject(who: string, name: string, value: unknown, shape: string): asserts value is Record<string, unknown> {
  if (!isObject(value)) throw new TypeError(`${who}: ${name} must be an object ${shape}, got ${describeValue(value)}`);
}

/** A number (its range is the caller's to check, with its own wording). */
export function checkNumber(who: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${who}: ${name} must be a number, got ${describeValue(value)}`);
}
