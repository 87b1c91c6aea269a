/**
 * The machine device tree for bare-metal runs (and the base later boards extend): root, /cpus with
 * one cpu@N per hart, /memory, /chosen. Devices add their own nodes through `nodeWriters`, so the
 * board walks a registry instead of knowing every device (style guide, example 6).
 *
 * Bindings: Documentation/devicetree/bindings/riscv/cpus.yaml (riscv,isa, riscv,isa-base,
 * riscv,isa-extensions, mmu-type, riscv,cbo*-block-size, the cpu interrupt-controller child),
 * DTSpec v0.4 §3.4 (/memory), §3.6 (/chosen), §3.7-3.8 (/cpus, cpu nodes).
 */
import { FdtBuilder, type FdtNode } from './fdt.js';
import { checkHartDescription, isaExtensionList, isaString, mmuType, type HartDescription } from './hart-description.js';
import { checkArray, checkBytes, checkFunction, checkInteger, checkObject, checkOptionsObject, checkString, checkU64 } from '../option-checks.js';

export interface MachineFdtContext {
  fdt: FdtBuilder;
  root: FdtNode;
  /** Phandle of each hart's riscv,cpu-intc node, by position in `harts`. */
  cpuIntcPhandles: number[];
}

export interface MachineFdtOptions {
  harts: readonly HartDescription[];
  /** timer.frequency of the boot hart. */
  timebaseFrequency: number;
  ram: { base: bigint; size: number };
  /** /chosen/bootargs; omitted when undefined. */
  bootargs?: string;
  /** /chosen/stdout-path; omitted when undefined (a bare-metal run has no console device node: its
   * console is SBI DBCN, which needs none). */
  stdoutPath?: string;
  /** /chosen linux,initrd-start / linux,initrd-end (end exclusive), as 64-bit values. */
  initrd?: { start: bigint; end: bigint };
  /** /chosen/rng-seed: bytes Linux adds to its entropy pool early (chosen.txt, "rng-seed"). */
  rngSeed?: Uint8Array;
  /** Called in order after the core nodes exist; each adds its device's nodes. */
  nodeWriters?: readonly ((ctx: MachineFdtContext) => void)[];
  model?: string;
}

/** Every option buildMachineFdt reads, checked before a node is written (see option-checks.ts for
 * the error classes). A property value of the wrong type would otherwise end up in the blob as
 * garbage ('undefined' strings, cells of NaN) or fail half-way with "Cannot read properties". */
function checkMachineFdtOptions(opts: MachineFdtOptions): void {
  const who = 'buildMachineFdt';
  checkOptionsObject(who, opts);
  checkArray(who, 'harts', opts.harts);
  if (opts.harts.length === 0) throw new RangeError(`${who}: a machine needs at least one hart (harts is empty)`);
  const seen = new Set<number>();
  opts.harts.forEach((h: unknown, i: number) => {
    checkHartDescription(who, `harts[${i}]`, h);
    // Two cpu@N nodes of one name are not allowed (DTSpec §2.2.1: unique among siblings).
    if (seen.has(h.hartId)) throw new RangeError(`${who}: harts[${i}].hartId ${h.hartId} is given twice`);
    seen.add(h.hartId);
  });
  // /cpus timebase-frequency is one cell (cpus.yaml); 0 would make Linux divide by it.
  checkInteger(who, 'timebaseFrequency', opts.timebaseFrequency, 1, 0xffff_ffff);
  checkObject(who, 'ram', opts.ram, '{ base, size }');
  checkU64(who, 'ram.base', opts.ram.base);
  checkInteger(who, 'ram.size', opts.ram.size, 1, Number.MAX_SAFE_INTEGER);
  if (opts.ram.base + BigInt(opts.ram.size) > 1n << 64n) throw new RangeError(`${who}: ram [0x${opts.ram.base.toString(16)}, +${opts.ram.size}) runs past 2^64`);
  checkString(who, 'bootargs', opts.bootargs, true);
  checkString(who, 'stdoutPath', opts.stdoutPath, true);
  checkString(who, 'model', opts.model, true);
  if (opts.initrd !== undefined) {
    checkObject(who, 'initrd', opts.initrd, '{ start, end }');
    checkU64(who, 'initrd.start', opts.initrd.start);
    checkU64(who, 'initrd.end', opts.initrd.end);
    // chosen.txt: linux,initrd-end is exclusive, so end < start describes no ramdisk at all.
    if (opts.initrd.end < opts.initrd.start) throw new RangeError(`${who}: initrd.end 0x${opts.initrd.end.toString(16)} is below initrd.start 0x${opts.initrd.start.toString(16)}`);
  }
  checkBytes(who, 'rngSeed', opts.rngSeed, true);
  if (opts.nodeWriters !== undefined) {
    checkArray(who, 'nodeWriters', opts.nodeWriters);
    opts.nodeWriters.forEach((w: unknown, i: number) => checkFunction(who, `nodeWriters[${i}]`, w, false));
  }
}

export function buildMachineFdt(opts: MachineFdtOptions): { blob: Uint8Array; cpuIntcPhandles: number[] } {
  checkMachineFdtOptions(opts);
  const fdt = new FdtBuilder();
  fdt.bootCpuidPhys = opts.harts[0]!.hartId;
  const root = fdt.root;
  root.setU32('#address-cells', 2).setU32('#size-cells', 2);
  root.setString('compatible', 'linux,dummy-virt');
  root.setString('model', opts.model ?? 'kvm-riscv');

  const chosen = root.addNode('chosen');
  if (opts.bootargs !== undefined) chosen.setString('bootargs', opts.bootargs);
  if (opts.stdoutPath !== undefined) chosen.setString('stdout-path', opts.stdoutPath);
  if (opts.initrd) {
    // Written as u64 whatever their value, as kvmtool does; Linux reads either cell count.
    chosen.setU64('linux,initrd-start', opts.initrd.start);
    chosen.setU64('linux,initrd-end', opts.initrd.end);
  }
  if (opts.rngSeed !== undefined && opts.rngSeed.length > 0) chosen.setBytes('rng-seed', opts.rngSeed);

  root.addNode(`memory@${opts.ram.base.toString(16)}`)
    .setString('device_type', 'memory')
    .setAddressCells('reg', [opts.ram.base, BigInt(opts.ram.size)]);

  const cpus = root.addNode('cpus');
  cpus.setU32('#address-cells', 1).setU32('#size-cells', 0);
  cpus.setU32('timebase-frequency', opts.timebaseFrequency);
  const cpuIntcPhandles: number[] = [];
  for (const hart of opts.harts) {
    const cpu = cpus.addNode(`cpu@${hart.hartId.toString(16)}`);
    cpu.setString('device_type', 'cpu');
    cpu.setU32('reg', hart.hartId);
    cpu.setString('status', 'okay');
    cpu.setString('compatible', 'riscv');
    cpu.setString('riscv,isa', isaString(hart));
    cpu.setString('riscv,isa-base', 'rv64i');
    cpu.setStringList('riscv,isa-extensions', isaExtensionList(hart));
    cpu.setString('mmu-type', mmuType(hart.satpMode));
    if (hart.cbomBlockSize !== undefined) cpu.setU32('riscv,cbom-block-size', hart.cbomBlockSize);
    if (hart.cbozBlockSize !== undefined) cpu.setU32('riscv,cboz-block-size', hart.cbozBlockSize);
    const intc = cpu.addNode('interrupt-controller');
    intc.setString('compatible', 'riscv,cpu-intc');
    intc.setU32('#interrupt-cells', 1);
    // dtc's interrupt_provider check (and interrupt-map parsing) wants #address-cells on every
    // interrupt controller; 0 because nothing addresses into a hart's local interrupts.
    intc.setU32('#address-cells', 0);
    intc.setEmpty('interrupt-controller');
    cpuIntcPhandles.push(intc.phandle());
  }

  const ctx: MachineFdtContext = { fdt, root, cpuIntcPhandles };
  for (const write of opts.nodeWriters ?? []) write(ctx);
  return { blob: fdt.toBytes(), cpuIntcPhandles };
}
