/**
 * Fuzz target "parsers": the readers of user-supplied boot inputs, fed mutated valid inputs.
 *   - ELF (lib/boot/elf.ts parseElf + loadKernelImage): seeds are the guest programs' ELF files
 *     (guest/build/*.elf) when built, and a minimal one-segment ELF64 made here;
 *   - Linux Image (lib/boot/linux-image.ts, boot-image-header.rst), through loadKernelImage;
 *   - FDT (lib/boot/fdt.ts parseFdt, DTSpec v0.4 chapter 5), then every property read as cells,
 *     strings and u64s, and a path lookup.
 * Documented errors: KernelImageError and FdtError. Invariants: the loader writes only inside the
 * RAM window it was given and reports an entry and extent inside it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FdtBuilder, FdtError, findNode, parseFdt, propCells, propStrings, propU64, type ParsedFdtNode } from '../../lib/boot/fdt.js';
import { KernelImageError, loadKernelImage, parseElf, type ImageSink, type RamWindow } from '../../lib/boot/elf.js';
import { parseRiscvImageHeader, RISCV_IMAGE_MAGIC2 } from '../../lib/boot/linux-image.js';
import { check, type FuzzTarget } from '../harness.js';
import type { Rng } from '../rng.js';

type BaseKind = 'elf' | 'image' | 'fdt';

export type ParserOp =
  | { op: 'base'; kind: BaseKind; index: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'u32'; at: number; value: number; bigEndian: boolean }
  | { op: 'u64'; at: number; value: bigint }
  | { op: 'truncate'; length: number }
  | { op: 'extend'; count: number; fill: number }
  | { op: 'copy'; from: number; to: number; length: number };

const WINDOW: RamWindow = { base: 0x8000_0000n, size: 16 * 1024 * 1024 };
const MAX_INPUT = 256 * 1024;

/** A minimal valid ELF64 RISC-V ET_EXEC: one PT_LOAD of 16 bytes at RAM + 2 MiB. */
function minimalElf(): Uint8Array {
  const bytes = new Uint8Array(64 + 56 + 16);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0x8020_0000n, true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, 1, true); // e_phnum
  dv.setUint32(64, 1, true); // PT_LOAD
  dv.setUint32(68, 5, true); // R+X
  dv.setBigUint64(72, 120n, true); // p_offset
  dv.setBigUint64(80, 0x8020_0000n, true);
  dv.setBigUint64(88, 0x8020_0000n, true);
  dv.setBigUint64(96, 16n, true);
  dv.setBigUint64(104, 32n, true);
  return bytes;
}

/** A Linux Image header (boot-image-header.rst) followed by a little code. */
function minimalLinuxImage(): Uint8Array {
  const bytes = new Uint8Array(256);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(8, 0x20_0000n, true); // text_offset
  dv.setBigUint64(16, 0x1000n, true); // image_size
  dv.setUint32(32, 2, true); // version 0.2
  dv.setUint32(56, RISCV_IMAGE_MAGIC2, true);
  return bytes;
}

function sampleFdt(): Uint8Array {
  const b = new FdtBuilder();
  b.root.setCells('#address-cells', [2]).setCells('#size-cells', [2]).setString('compatible', 'riscv-virtio');
  b.addReservation(0x8000_0000n, 0x1000n);
  const cpus = b.root.addNode('cpus');
  cpus.setCells('#address-cells', [1]).setCells('#size-cells', [0]).setCells('timebase-frequency', [10_000_000]);
  const cpu = cpus.addNode('cpu@0');
  cpu.setString('device_type', 'cpu').setCells('reg', [0]).setStringList('compatible', ['riscv', 'qemu']);
  cpu.addNode('interrupt-controller').setEmpty('interrupt-controller').setCells('#interrupt-cells', [1]);
  b.root.addNode('memory@80000000').setString('device_type', 'memory').setAddressCells('reg', [0x8000_0000n, 0x800_0000n]);
  b.root.addNode('chosen').setString('bootargs', 'console=hvc0 earlycon=sbi').setAddressCells('linux,initrd-start', [0x8800_0000n]);
  return b.toBytes();
}

function guestElfs(): Uint8Array[] {
  const dir = join(fileURLToPath(new URL('../../guest/build', import.meta.url)));
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.elf')).sort().slice(0, 6).map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** A sink that only checks where the loader writes (nothing is copied: throughput). */
function checkingSink(): ImageSink {
  const end = WINDOW.base + BigInt(WINDOW.size);
  const inside = (gpa: bigint, length: number, what: string): void => {
    check(Number.isSafeInteger(length) && length >= 0, `${what}: length ${length} is not a byte count`);
    check(gpa >= WINDOW.base && gpa + BigInt(length) <= end, () => `${what} [0x${gpa.toString(16)}, +${length}) is outside the RAM window`);
  };
  return {
    writeBytes: (gpa, data) => inside(gpa, data.length, 'writeBytes'),
    fill: (gpa, length) => inside(gpa, length, 'fill'),
  };
}

function walk(node: ParsedFdtNode, depth: number, visit: (n: ParsedFdtNode) => void): void {
  visit(node);
  if (depth < 64) for (const c of node.children) walk(c, depth + 1, visit);
}

/** Reading a property in a shape it does not have is an FdtError, which is documented: swallow it
 * per property so the rest of the tree is still read. */
function readAllProps(root: ParsedFdtNode): void {
  walk(root, 0, (n) => {
    for (const value of n.props.values()) {
      for (const read of [() => propCells(value), () => propStrings(value), () => propU64(value, 0)]) {
        try { read(); } catch (e) { if (!(e instanceof FdtError)) throw e; }
      }
    }
  });
  findNode(root, '/cpus/cpu@0/interrupt-controller');
  findNode(root, '/chosen');
}

export function createParsersTarget(): FuzzTarget<ParserOp> {
  const bases: Record<BaseKind, Uint8Array[]> = {
    elf: [minimalElf(), ...guestElfs()],
    image: [minimalLinuxImage()],
    fdt: [sampleFdt()],
  };

  const offset = (rng: Rng, length: number, kind: BaseKind): number => {
    // Mostly the headers, where the lengths and offsets live.
    if (rng.chance(0.6)) return rng.below(Math.min(length, kind === 'fdt' ? 40 : 64 + 56 * 2));
    return rng.below(Math.max(length, 1));
  };

  return {
    name: 'parsers',
    description: 'ELF, Linux Image header and FDT readers with mutated inputs',
    generate(rng) {
      const kind = rng.pick<BaseKind>(['elf', 'elf', 'image', 'fdt', 'fdt']);
      const index = rng.below(bases[kind].length);
      const length = bases[kind][index]!.length;
      const ops: ParserOp[] = [{ op: 'base', kind, index }];
      const n = rng.range(1, 8);
      for (let i = 0; i < n; i++) {
        const at = offset(rng, length, kind);
        switch (rng.below(10)) {
          case 0: ops.push({ op: 'flip', at, bit: rng.below(8) }); break;
          case 1: ops.push({ op: 'byte', at, value: rng.pick([0, 0xff, 0x7f, 0x80, rng.below(256)]) }); break;
          case 2: case 3: ops.push({ op: 'u32', at: at & ~3, value: Number(rng.interestingU64([BigInt(length)]) & 0xffff_ffffn), bigEndian: kind === 'fdt' }); break;
          case 4: case 5: ops.push({ op: 'u64', at: at & ~7, value: rng.interestingU64([WINDOW.base, WINDOW.base + BigInt(WINDOW.size), BigInt(length)]) }); break;
          case 6: ops.push({ op: 'truncate', length: rng.below(length + 1) }); break;
          case 7: ops.push({ op: 'extend', count: rng.range(1, 4096), fill: rng.below(256) }); break;
          default: ops.push({ op: 'copy', from: rng.below(length), to: at, length: rng.range(1, 64) }); break;
        }
      }
      return ops;
    },
    execute(ops) {
      let kind: BaseKind = 'elf';
      let bytes = bases.elf[0]!;
      for (const o of ops) if (o.op === 'base') { kind = o.kind; bytes = bases[o.kind][o.index] ?? bases[o.kind][0]!; }
      bytes = bytes.slice();
      for (const o of ops) {
        switch (o.op) {
          case 'base': break;
          case 'flip': if (o.at < bytes.length) bytes[o.at]! ^= 1 << o.bit; break;
          case 'byte': if (o.at < bytes.length) bytes[o.at] = o.value; break;
          case 'u32': if (o.at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(o.at, o.value >>> 0, !o.bigEndian); break;
          case 'u64': if (o.at + 8 <= bytes.length) new DataView(bytes.buffer).setBigUint64(o.at, o.value, true); break;
          case 'truncate': bytes = bytes.slice(0, o.length); break;
          case 'extend': if (bytes.length + o.count <= MAX_INPUT) { const b = new Uint8Array(bytes.length + o.count).fill(o.fill); b.set(bytes); bytes = b; } break;
          case 'copy': { const chunk = bytes.slice(o.from, o.from + o.length); if (o.to + chunk.length <= bytes.length) bytes.set(chunk, o.to); break; }
        }
      }
      if (kind === 'fdt') {
        const fdt = parseFdt(bytes);
        check(fdt.totalSize <= bytes.length, `parsed totalsize ${fdt.totalSize} exceeds the ${bytes.length}-byte blob`);
        readAllProps(fdt.root);
        return;
      }
      if (kind === 'elf' && bytes.length >= 4 && bytes[0] === 0x7f) parseElf(bytes);
      if (kind === 'image') parseRiscvImageHeader(bytes);
      const loaded = loadKernelImage(bytes, WINDOW, checkingSink());
      const end = WINDOW.base + BigInt(WINDOW.size);
      check(loaded.entry >= WINDOW.base && loaded.entry < end, `entry 0x${loaded.entry.toString(16)} outside RAM`);
      check(loaded.start >= WINDOW.base && loaded.end <= end && loaded.start <= loaded.end, `extent [0x${loaded.start.toString(16)}, 0x${loaded.end.toString(16)}) outside RAM`);
    },
    isExpected: (e) => e instanceof KernelImageError || e instanceof FdtError,
    caseTimeoutMs: 2000,
  };
}
