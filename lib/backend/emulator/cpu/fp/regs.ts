/**
 * f-register access as JavaScript numbers. f is Int32Array(64) with [2n] the low and [2n+1] the
 * high word of f_n (contract.ts); a DataView over one scratch word pair reinterprets the bits
 * without depending on the host's byte order. Single-precision values are NaN-boxed
 * (unprivileged spec, F §"NaN Boxing of Narrower Values").
 */

const scratch = new DataView(new ArrayBuffer(8));

export function readF64(f: Int32Array, r: number): number {
  scratch.setInt32(0, f[2 * r]!, true);
  scratch.setInt32(4, f[2 * r + 1]!, true);
  return scratch.getFloat64(0, true);
}

export function writeF64(f: Int32Array, r: number, v: number): void {
  scratch.setFloat64(0, v, true);
  f[2 * r] = scratch.getInt32(0, true);
  f[2 * r + 1] = scratch.getInt32(4, true);
}

/** Whether f_r holds a properly NaN-boxed single. */
export function isBoxed(f: Int32Array, r: number): boolean {
  return f[2 * r + 1] === -1;
}

/** The boxed single in f_r as a number; NaN (the canonical NaN's value) when not boxed. */
export function readF32(f: Int32Array, r: number): number {
  if (f[2 * r + 1] !== -1) return NaN;
  scratch.setInt32(0, f[2 * r]!, true);
  return scratch.getFloat32(0, true);
}

/** Writes v (already a binary32 value) NaN-boxed. */
export function writeF32(f: Int32Array, r: number, v: number): void {
  scratch.setFloat32(0, v, true);
  f[2 * r] = scratch.getInt32(0, true);
  f[2 * r + 1] = -1;
}

/** The binary32 bit pattern of a number that is exactly representable (or NaN/±∞). */
export function f32BitsOf(v: number): number {
  scratch.setFloat32(0, v, true);
  return scratch.getInt32(0, true);
}

/** Whether f_r holds a signaling NaN of the given width (quiet bit clear; F §"NaN Generation"). An
 * unboxed single reads as the canonical NaN, which is quiet. */
export function isSignalingF64(f: Int32Array, r: number): boolean {
  const hi = f[2 * r + 1]!;
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) !== 0 || f[2 * r] !== 0);
}

export function isSignalingF32(f: Int32Array, r: number): boolean {
  const lo = f[2 * r]!;
  return f[2 * r + 1] === -1 && (lo & 0x7fc00000) === 0x7f800000 && (lo & 0x3fffff) !== 0;
}
