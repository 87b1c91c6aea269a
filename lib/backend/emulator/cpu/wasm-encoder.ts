/**
 * A minimal WebAssembly binary encoder: just what wasm-jit.ts emits. Numbers and layouts are from
 * the WebAssembly core specification 2.0, chapter 5 "Binary Format":
 *   §5.2.2 integers as LEB128 (unsigned for indices and sizes, signed for constants),
 *   §5.3 types (valtype i32 0x7F, i64 0x7E; functype 0x60; limits; memtype),
 *   §5.4 instructions (opcodes below; memarg = align, offset),
 *   §5.5 modules (magic, version, sections type=1, import=2, function=3, export=7, code=10).
 * Shared memory limits (flag 0x03) are from the threads proposal, merged into the 3.0 spec.
 */

/** Value types (§5.3.1). */
export const I32 = 0x7f;
export const I64 = 0x7e;
/** Block type with no result (§5.4.1 blocktype: 0x40 = empty). */
export const VOID = 0x40;

/** Opcodes (§5.4). Names follow the text format. */
export const enum W {
  block = 0x02, loop = 0x03, if = 0x04, else = 0x05, end = 0x0b, br = 0x0c, br_if = 0x0d, br_table = 0x0e, return = 0x0f, call = 0x10,
  drop = 0x1a, select = 0x1b,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22,
  i32_load = 0x28, i64_load = 0x29,
  i64_load8_s = 0x30, i64_load8_u = 0x31, i64_load16_s = 0x32, i64_load16_u = 0x33, i64_load32_s = 0x34, i64_load32_u = 0x35,
  i32_store = 0x36, i64_store = 0x37, i64_store8 = 0x3c, i64_store16 = 0x3d, i64_store32 = 0x3e,
  i32_const = 0x41, i64_const = 0x42,
  i32_eqz = 0x45, i32_eq = 0x46, i32_ne = 0x47, i32_lt_s = 0x48, i32_lt_u = 0x49, i32_gt_s = 0x4a, i32_gt_u = 0x4b,
  i32_le_s = 0x4c, i32_le_u = 0x4d, i32_ge_s = 0x4e, i32_ge_u = 0x4f,
  i64_eqz = 0x50, i64_eq = 0x51, i64_ne = 0x52, i64_lt_s = 0x53, i64_lt_u = 0x54, i64_gt_s = 0x55, i64_gt_u = 0x56,
  i64_le_s = 0x57, i64_le_u = 0x58, i64_ge_s = 0x59, i64_ge_u = 0x5a,
  i32_add = 0x6a, i32_sub = 0x6b, i32_mul = 0x6c, i32_div_s = 0x6d, i32_div_u = 0x6e, i32_rem_s = 0x6f, i32_rem_u = 0x70,
  i32_and = 0x71, i32_or = 0x72, i32_xor = 0x73, i32_shl = 0x74, i32_shr_s = 0x75, i32_shr_u = 0x76,
  i64_add = 0x7c, i64_sub = 0x7d, i64_mul = 0x7e, i64_div_s = 0x7f, i64_div_u = 0x80, i64_rem_s = 0x81, i64_rem_u = 0x82,
  i64_and = 0x83, i64_or = 0x84, i64_xor = 0x85, i64_shl = 0x86, i64_shr_s = 0x87, i64_shr_u = 0x88,
  i32_wrap_i64 = 0xa7, i64_extend_i32_s = 0xac, i64_extend_i32_u = 0xad,
}

/** A growable byte buffer with the LEB128 writers of §5.2.2. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b & 255;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let k = 0; k < bs.length; k++) this.byte(bs[k]);
    return this;
  }

  /** Unsigned LEB128 of a u32. */
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    let n = v;
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n !== 0) b |= 0x80;
      this.byte(b);
    } while (n !== 0);
    return this;
  }

  /** Signed LEB128 of an integer in the int32 range (also used for i64.const of such values). */
  s32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`s32 out of range: ${v}`);
    let n = v | 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** A name (§5.2.4): length-prefixed UTF-8 (ASCII here). */
  name(s: string): this {
    this.u32(s.length);
    for (let k = 0; k < s.length; k++) this.byte(s.charCodeAt(k));
    return this;
  }

  /** A section payload or code entry: its byte length, then its bytes (§5.5.2, §5.5.13). */
  sized(inner: ByteWriter): this {
    return this.u32(inner.length).append(inner);
  }

  append(inner: ByteWriter): this {
    for (let k = 0; k < inner.length; k++) this.byte(inner.buf[k]);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  // --- instruction helpers (§5.4) ---
  op(o: W): this { return this.byte(o); }
  get(local: number): this { return this.byte(W.local_get).u32(local); }
  set(local: number): this { return this.byte(W.local_set).u32(local); }
  tee(local: number): this { return this.byte(W.local_tee).u32(local); }
  i32(v: number): this { return this.byte(W.i32_const).s32(v); }
  i64(v: number): this { return this.byte(W.i64_const).s32(v); }
  /** A load or store with memarg (§5.4.6): alignment exponent and a constant offset. */
  mem(o: W, align: number, offset: number): this { return this.byte(o).u32(align).u32(offset); }
}

/** One function of a module: its type index, locals (runs of one type) and body (ending with `end`). */
export interface FunctionBody {
  type?: number;
  locals: Array<[count: number, type: number]>;
  code: ByteWriter;
}

/** A function type (§5.3.6): parameter and result value types. */
export interface FuncType { params: number[]; results: number[] }

/** The block signature (baseLo, baseHi, left) -> next pc low (jit.ts BlockFn). */
export const BLOCK_TYPE: FuncType = { params: [I32, I32, I32], results: [I32] };

/**
 * A module importing the shared memory "m"."m" (limits min 1, max 65536 pages) with the given
 * function types and functions; `exports` maps names to function indices.
 */
export function encodeModule(types: FuncType[], funcs: FunctionBody[], exports: Array<[name: string, func: number]>): Uint8Array {
  const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // §5.5.16 magic, version
  const section = (id: number, inner: ByteWriter) => out.byte(id).sized(inner);
  // Type section (§5.5.4).
  const ts = new ByteWriter().u32(types.length);
  for (const t of types) ts.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
  section(1, ts);
  // Import section (§5.5.5): memory "m"."m", memtype limits flag 0x03 = shared with a maximum.
  section(2, new ByteWriter().u32(1).name('m').name('m').byte(0x02).byte(0x03).u32(1).u32(65536));
  // Function section (§5.5.6): type index of each function.
  const fns = new ByteWriter().u32(funcs.length);
  for (const f of funcs) fns.u32(f.type ?? 0);
  section(3, fns);
  // Export section (§5.5.10): exportdesc 0x00 = func.
  const exps = new ByteWriter().u32(exports.length);
  for (const [name, index] of exports) exps.name(name).byte(0x00).u32(index);
  section(7, exps);
  // Code section (§5.5.13): each entry is size, locals vector, expression.
  const code = new ByteWriter().u32(funcs.length);
  for (const b of funcs) {
    const fn = new ByteWriter().u32(b.locals.length);
    for (const [count, type] of b.locals) fn.u32(count).byte(type);
    code.sized(fn.append(b.code));
  }
  section(10, code);
  return out.finish();
}

/** Functions of type BLOCK_TYPE exported as "f0", "f1", .... */
export function blockModule(bodies: FunctionBody[]): Uint8Array {
  return encodeModule([BLOCK_TYPE], bodies, bodies.map((_, k) => [`f${k}`, k]));
}
