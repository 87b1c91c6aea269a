/**
 * Just enough ELF64 (little-endian) to read a guest program's symbol table, so tests can name
 * addresses ("the pc of the SRST ecall") instead of hard-coding offsets that move when the
 * assembly changes. Layout from the System V gABI, "ELF Header", "Sections", "Symbol Table".
 */
import { readFileSync } from 'node:fs';

const SHT_SYMTAB = 2;

export function readElfSymbols(path: string): Map<string, bigint> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path}: not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error(`${path}: not ELF64 little-endian`);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
      link: view.getUint32(at + 0x28, true),
      entsize: Number(view.getBigUint64(at + 0x38, true)),
    };
  };
  const symbols = new Map<string, bigint>();
  for (let i = 0; i < shnum; i++) {
    const sh = section(i);
    if (sh.type !== SHT_SYMTAB || sh.entsize < 24) continue;
    const strtab = section(sh.link);
    for (let at = sh.offset; at + 24 <= sh.offset + sh.size; at += sh.entsize) {
      const nameOff = view.getUint32(at, true);
      if (nameOff === 0) continue;
      const start = strtab.offset + nameOff;
      const end = buf.indexOf(0, start);
      symbols.set(buf.toString('latin1', start, end), view.getBigUint64(at + 8, true));
    }
  }
  return symbols;
}
