/**
 * A flattened device-tree (DTB) writer and reader, DTSpec v0.4 chapter 5.
 *
 * Layout written (§5.1): header (40 bytes, §5.2) | memory reservation block (§5.3, 8-byte aligned,
 * ended by a {0, 0} entry) | structure block (§5.4: FDT_BEGIN_NODE / FDT_PROP / FDT_END_NODE /
 * FDT_END tokens, every token 4-byte aligned) | strings block (§5.5: NUL-terminated property names,
 * each stored once and referenced by offset). All header and token words are big-endian.
 *
 * The builder is a tree of nodes whose properties are kept in insertion order; `toBytes()` walks it
 * once. The reader (`parseFdt`) is for tests and tools: it checks every offset against the blob and
 * throws FdtError naming what is wrong.
 */

import { describeValue } from '../option-checks.js';

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
/** §5.2: this writer emits version 17, compatible back to 16. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
const FDT_HEADER_SIZE = 40;

export class FdtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FdtError';
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** §2.2.1: node names are 1-31 chars of [0-9a-zA-Z,._+-], optionally followed by @unit-address. */
const NODE_NAME_RE = /^[0-9a-zA-Z,._+-]{1,31}(@[0-9a-zA-Z,._+-]+)?$/;
/** §2.2.4: property names are 1-31 chars of [0-9a-zA-Z,._+?#-]. */
const PROP_NAME_RE = /^[0-9a-zA-Z,._+?#-]{1,31}$/;

function u32Check(name: string, v: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: a cell must be a number, got ${describeValue(v)}`);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name}: ${v} is not a u32`);
  return v;
}

function u64Check(name: string, v: number | bigint): bigint {
  // BigInt() itself would take a string ('12') and throw unnamed errors for 1.5 or NaN.
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new TypeError(`${name}: a u64 must be a number or bigint, got ${describeValue(v)}`);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`${name}: ${v} is not a u64 (a number must be a safe integer; pass a bigint above 2^53)`);
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`${name}: ${describeValue(v)} is not a u64`);
  return b;
}

/** A property name: a string of §2.2.4's characters (RegExp.test would take null as 'null'). */
function checkPropName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`property name must be a string, got ${describeValue(name)}`);
  if (!PROP_NAME_RE.test(name)) throw new RangeError(`invalid property name ${describeValue(name)}`);
}

/** A <stringlist> element: a string without NUL (it is the separator, §2.2.4.1). */
function checkPropString(name: string, index: number, s: unknown): asserts s is string {
  if (typeof s !== 'string') throw new TypeError(`${name}[${index}]: a string value must be a string, got ${describeValue(s)}`);
  if (s.includes('\0')) throw new RangeError(`${name}: string contains NUL`);
}

/** A raw blob argument of the reader functions. */
function checkBlob(who: string, name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${who}: ${name} must be a Uint8Array, got ${describeValue(v)}`);
}

export class FdtNode {
  readonly name: string;
  readonly children: FdtNode[] = [];
  private readonly props = new Map<string, Uint8Array>();
  private readonly owner: FdtBuilder;

  /** @internal use FdtBuilder.root / addNode() */
  constructor(owner: FdtBuilder, name: string) {
    if (!(owner instanceof FdtBuilder)) throw new TypeError(`FdtNode: owner must be an FdtBuilder (use FdtBuilder.root and addNode()), got ${describeValue(owner)}`);
    if (typeof name !== 'string') throw new TypeError(`FdtNode: name must be a string, got ${describeValue(name)}`);
    this.owner = owner;
    this.name = name;
  }

  /** Adds a child node; names must be unique among siblings (§2.2.1). */
  addNode(name: string): FdtNode {
    if (typeof name !== 'string') throw new TypeError(`node name must be a string, got ${describeValue(name)}`);
    if (!NODE_NAME_RE.test(name)) throw new RangeError(`invalid node name '${name}'`);
    if (this.children.some((c) => c.name === name)) throw new RangeError(`node '${name}' already exists under '${this.name || '/'}'`);
    const node = new FdtNode(this.owner, name);
    this.children.push(node);
    return node;
  }

  child(name: string): FdtNode | undefined {
    if (typeof name !== 'string') throw new TypeError(`child: node name must be a string, got ${describeValue(name)}`);
    return this.children.find((c) => c.name === name);
  }

  /** Raw property value; replaces an existing one of the same name. */
  setBytes(name: string, value: Uint8Array): this {
    checkPropName(name);
    // Uint8Array.from() would take [300] as 44 and a string as zeros.
    if (!(value instanceof Uint8Array)) throw new TypeError(`${name}: value must be a Uint8Array, got ${describeValue(value)}`);
    this.props.set(name, Uint8Array.from(value));
    return this;
  }

  /** An empty property, e.g. `interrupt-controller` (§2.2.4.1 <empty>). */
  setEmpty(name: string): this {
    return this.setBytes(name, new Uint8Array(0));
  }

  setU32(name: string, value: number): this {
    return this.setCells(name, [value]);
  }

  /** A <u64>: two cells, high word first (§2.2.4.1). */
  setU64(name: string, value: number | bigint): this {
    const v = u64Check(name, value);
    return this.setCells(name, [Number(v >> 32n), Number(v & 0xffffffffn)]);
  }

  /** A <prop-encoded-array> of 32-bit cells. */
  setCells(name: string, cells: readonly number[]): this {
    checkPropName(name);
    if (!Array.isArray(cells)) throw new TypeError(`${name}: cells must be an array of numbers, got ${describeValue(cells)}`);
    const out = new Uint8Array(cells.length * 4);
    const dv = new DataView(out.buffer);
    cells.forEach((c, i) => dv.setUint32(i * 4, u32Check(`${name}[${i}]`, c)));
    return this.setBytes(name, out);
  }

  /** Cells given as 64-bit values each split into `cellsPerValue` (1 or 2) cells, e.g. reg = <base size>. */
  setAddressCells(name: string, values: readonly (number | bigint)[], cellsPerValue: 1 | 2 = 2): this {
    checkPropName(name);
    if (!Array.isArray(values)) throw new TypeError(`${name}: values must be an array of numbers or bigints, got ${describeValue(values)}`);
    if (cellsPerValue !== 1 && cellsPerValue !== 2) throw new RangeError(`${name}: cellsPerValue must be 1 or 2, got ${describeValue(cellsPerValue)}`);
    const cells: number[] = [];
    for (const v of values) {
      const b = u64Check(name, v);
      if (cellsPerValue === 1) {
        if (b > 0xffffffffn) throw new RangeError(`${name}: ${v} does not fit one cell`);
        cells.push(Number(b));
      } else {
        cells.push(Number(b >> 32n), Number(b & 0xffffffffn));
      }
    }
    return this.setCells(name, cells);
  }

  setString(name: string, value: string): this {
    return this.setStringList(name, [value]);
  }

  /** A <stringlist>: NUL-terminated strings back to back (§2.2.4.1). */
  setStringList(name: string, values: readonly string[]): this {
    checkPropName(name);
    if (!Array.isArray(values)) throw new TypeError(`${name}: values must be an array of strings, got ${describeValue(values)}`);
    const parts = values.map((s: unknown, i: number) => {
      checkPropString(name, i, s);
      return utf8.encode(s + '\0');
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.length; }
    return this.setBytes(name, out);
  }

  /** Gives this node a phandle (§2.3.3), allocated once per tree, and returns it. */
  phandle(): number {
    const existing = this.props.get('phandle');
    if (existing) {
      // Set by hand through setBytes(): a phandle is one cell (§2.3.3), else DataView reads past it.
      if (existing.length !== 4) throw new RangeError(`${this.name || '/'}: its phandle property is ${existing.length} bytes, not one u32 cell`);
      return new DataView(existing.buffer, existing.byteOffset).getUint32(0);
    }
    const ph = this.owner.allocatePhandle();
    this.setU32('phandle', ph);
    return ph;
  }

  getProp(name: string): Uint8Array | undefined {
    if (typeof name !== 'string') throw new TypeError(`getProp: property name must be a string, got ${describeValue(name)}`);
    return this.props.get(name);
  }

  propEntries(): IterableIterator<[string, Uint8Array]> {
    return this.props.entries();
  }
}

export interface FdtReservation { address: bigint; size: bigint }

export class FdtBuilder {
  readonly root: FdtNode = new FdtNode(this, '');
  private readonly reservations: FdtReservation[] = [];
  private nextPhandle = 1;
  bootCpuidPhys = 0;

  /** @internal */
  allocatePhandle(): number {
    return this.nextPhandle++;
  }

  /** A /memreserve/ entry (§5.3). */
  addReservation(address: number | bigint, size: number | bigint): void {
    this.reservations.push({ address: u64Check('reservation address', address), size: u64Check('reservation size', size) });
  }

  /** Serialises the tree into a DTB. */
  toBytes(): Uint8Array {
    // A public field: DataView.setUint32 would silently wrap or zero a bad value (§5.2: a u32).
    u32Check('bootCpuidPhys', this.bootCpuidPhys);
    // Strings block with de-duplicated names (§5.5).
    const stringOffsets = new Map<string, number>();
    const stringParts: Uint8Array[] = [];
    let stringsSize = 0;
    const nameOffset = (name: string): number => {
      let off = stringOffsets.get(name);
      if (off === undefined) {
        off = stringsSize;
        const bytes = utf8.encode(name + '\0');
        stringParts.push(bytes);
        stringsSize += bytes.length;
        stringOffsets.set(name, off);
      }
      return off;
    };

    // Structure block (§5.4).
    const words = new StructWriter();
    const emit = (node: FdtNode): void => {
      words.u32(FDT_BEGIN_NODE);
      words.bytesPadded(utf8.encode(node.name + '\0'));
      for (const [name, value] of node.propEntries()) {
        words.u32(FDT_PROP);
        words.u32(value.length);
        words.u32(nameOffset(name));
        words.bytesPadded(value);
      }
      for (const child of node.children) emit(child);
      words.u32(FDT_END_NODE);
    };
    emit(this.root);
    words.u32(FDT_END);
    const struct = words.finish();

    const offRsvmap = align(FDT_HEADER_SIZE, 8);
    const rsvSize = (this.reservations.length + 1) * 16;
    const offStruct = align(offRsvmap + rsvSize, 4);
    const offStrings = offStruct + struct.length;
    const totalSize = offStrings + stringsSize;

    const out = new Uint8Array(totalSize);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, FDT_MAGIC);
    dv.setUint32(4, totalSize);
    dv.setUint32(8, offStruct);
    dv.setUint32(12, offStrings);
    dv.setUint32(16, offRsvmap);
    dv.setUint32(20, FDT_VERSION);
    dv.setUint32(24, FDT_LAST_COMP_VERSION);
    dv.setUint32(28, this.bootCpuidPhys);
    dv.setUint32(32, stringsSize);
    dv.setUint32(36, struct.length);
    this.reservations.forEach((r, i) => {
      dv.setBigUint64(offRsvmap + i * 16, r.address);
      dv.setBigUint64(offRsvmap + i * 16 + 8, r.size);
    });
    out.set(struct, offStruct);
    let off = offStrings;
    for (const p of stringParts) { out.set(p, off); off += p.length; }
    return out;
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

class StructWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private grow(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u32(v: number): void {
    this.grow(4);
    new DataView(this.buf.buffer).setUint32(this.len, v);
    this.len += 4;
  }
  /** Bytes followed by zero padding to the next 4-byte boundary (§5.4.1). */
  bytesPadded(b: Uint8Array): void {
    const padded = align(b.length, 4);
    this.grow(padded);
    this.buf.set(b, this.len);
    this.buf.fill(0, this.len + b.length, this.len + padded);
    this.len += padded;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---------------------------------------------------------------------------------------------
// Reader

export interface ParsedFdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: ParsedFdtNode[];
}

export interface ParsedFdt {
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  totalSize: number;
  reservations: FdtReservation[];
  root: ParsedFdtNode;
}

/** Parses a DTB, checking every offset and token against the blob. */
export function parseFdt(blob: Uint8Array): ParsedFdt {
  checkBlob('parseFdt', 'blob', blob);
  if (blob.length < FDT_HEADER_SIZE) throw new FdtError(`blob is ${blob.length} bytes, shorter than the 40-byte header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = dv.getUint32(0);
  if (magic !== FDT_MAGIC) throw new FdtError(`bad magic 0x${magic.toString(16)} (expected 0xd00dfeed)`);
  const totalSize = dv.getUint32(4);
  const offStruct = dv.getUint32(8);
  const offStrings = dv.getUint32(12);
  const offRsvmap = dv.getUint32(16);
  const version = dv.getUint32(20);
  const lastCompVersion = dv.getUint32(24);
  const bootCpuidPhys = dv.getUint32(28);
  const sizeStrings = dv.getUint32(32);
  const sizeStruct = dv.getUint32(36);
  if (totalSize > blob.length) throw new FdtError(`totalsize ${totalSize} exceeds the blob (${blob.length} bytes)`);
  if (lastCompVersion > 17) throw new FdtError(`last_comp_version ${lastCompVersion} is newer than 17`);
  const inside = (what: string, off: number, size: number): void => {
    if (off + size > totalSize) throw new FdtError(`${what} [${off}, +${size}) runs past totalsize ${totalSize}`);
  };
  inside('structure block', offStruct, sizeStruct);
  inside('strings block', offStrings, sizeStrings);
  if (offStruct % 4 !== 0) throw new FdtError(`structure block offset ${offStruct} is not 4-byte aligned`);

  const reservations: FdtReservation[] = [];
  for (let off = offRsvmap; ; off += 16) {
    inside('memory reservation entry', off, 16);
    const address = dv.getBigUint64(off);
    const size = dv.getBigUint64(off + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const structEnd = offStruct + sizeStruct;
  let p = offStruct;
  const word = (): number => {
    if (p + 4 > structEnd) throw new FdtError(`structure block ends inside a token at offset ${p}`);
    const w = dv.getUint32(p);
    p += 4;
    return w;
  };
  const cstring = (start: number, end: number, what: string): [string, number] => {
    const nul = blob.indexOf(0, start);
    if (nul < 0 || nul >= end) throw new FdtError(`${what} at offset ${start} is not NUL-terminated`);
    return [utf8Decoder.decode(blob.subarray(start, nul)), nul + 1];
  };

  const stack: ParsedFdtNode[] = [];
  let root: ParsedFdtNode | undefined;
  for (;;) {
    const token = word();
    if (token === FDT_NOP) continue;
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cstring(p, structEnd, 'node name');
      p = align(next, 4);
      const node: ParsedFdtNode = { name, props: new Map(), children: [] };
      if (stack.length === 0) {
        if (root) throw new FdtError('more than one root node');
        root = node;
      } else {
        stack[stack.length - 1]!.children.push(node);
      }
      stack.push(node);
    } else if (token === FDT_PROP) {
      const len = word();
      const nameoff = word();
      if (stack.length === 0) throw new FdtError(`property outside any node at offset ${p - 12}`);
      if (nameoff >= sizeStrings) throw new FdtError(`property name offset ${nameoff} is outside the strings block`);
      const [name] = cstring(offStrings + nameoff, offStrings + sizeStrings, 'property name');
      if (p + len > structEnd) throw new FdtError(`property '${name}' value (${len} bytes) runs past the structure block`);
      stack[stack.length - 1]!.props.set(name, blob.slice(p, p + len));
      p = align(p + len, 4);
    } else if (token === FDT_END_NODE) {
      if (stack.length === 0) throw new FdtError(`FDT_END_NODE without a node at offset ${p - 4}`);
      stack.pop();
    } else if (token === FDT_END) {
      if (stack.length !== 0) throw new FdtError(`FDT_END with ${stack.length} node(s) still open`);
      break;
    } else {
      throw new FdtError(`unknown token 0x${token.toString(16)} at offset ${p - 4}`);
    }
  }
  if (!root) throw new FdtError('no root node');
  return { version, lastCompVersion, bootCpuidPhys, totalSize, reservations, root };
}

/** Finds a node by absolute path ("/cpus/cpu@0"). */
export function findNode(root: ParsedFdtNode, path: string): ParsedFdtNode | undefined {
  if (typeof root !== 'object' || root === null || !Array.isArray(root.children)) throw new TypeError(`findNode: root must be a parsed node (parseFdt(...).root), got ${describeValue(root)}`);
  if (typeof path !== 'string') throw new TypeError(`findNode: path must be a string, got ${describeValue(path)}`);
  let node: ParsedFdtNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
  }
  return node;
}

/** The index argument of the prop readers: a cell or element number. */
function checkPropIndex(who: string, index: unknown): void {
  if (typeof index !== 'number') throw new TypeError(`${who}: index must be a number, got ${describeValue(index)}`);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`${who}: index must be a non-negative integer, got ${index}`);
}

export function propU32(value: Uint8Array, index = 0): number {
  checkBlob('propU32', 'value', value);
  checkPropIndex('propU32', index);
  if (value.length < (index + 1) * 4) throw new FdtError(`property has ${value.length} bytes, no cell ${index}`);
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(index * 4);
}

export function propU64(value: Uint8Array, index = 0): bigint {
  checkBlob('propU64', 'value', value);
  checkPropIndex('propU64', index);
  if (value.length < (index + 1) * 8) throw new FdtError(`property has ${value.length} bytes, no u64 ${index}`);
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(index * 8);
}

export function propCells(value: Uint8Array): number[] {
  checkBlob('propCells', 'value', value);
  if (value.length % 4 !== 0) throw new FdtError(`property length ${value.length} is not a whole number of cells`);
  return Array.from({ length: value.length / 4 }, (_, i) => propU32(value, i));
}

export function propStrings(value: Uint8Array): string[] {
  checkBlob('propStrings', 'value', value);
  if (value.length === 0 || value[value.length - 1] !== 0) throw new FdtError('string property is not NUL-terminated');
  return utf8Decoder.decode(value.subarray(0, value.length - 1)).split('\0');
}
