/**
 * The platform-level interrupt controller as on QEMU's virt board (riscv-plic-spec v1.0.0;
 * binding Documentation/devicetree/bindings/interrupt-controller/sifive,plic-1.0.0.yaml).
 *
 * Register map (spec §3 "Memory Map"):
 *   0x000000 + 4·s      priority of source s (s = 1..ndev; source 0 does not exist)
 *   0x001000 + 4·w      pending bits of sources 32w..32w+31 (read-only)
 *   0x002000 + 0x80·c   enable bits of context c, one word per 32 sources
 *   0x200000 + 0x1000·c threshold of context c; +4 claim (read) / complete (write)
 *
 * Contexts: two per hart as QEMU virt lays them out: 2h is the hart's M-mode context (no output:
 * a KVM guest has no M-mode), 2h+1 its S-mode context, whose output is a level on the hart's
 * external-interrupt line (vcpu.setExternalInterrupt; kvm-riscv-abi.md §1.5): high while some
 * pending, enabled source has a priority above the context's threshold, low otherwise.
 *
 * Sources are level-triggered through the gateway (spec §5): a high level makes the source pending
 * unless a claim of it is in flight; claim clears pending and marks it in flight; complete ends
 * the flight, and a level still high makes it pending again.
 *
 * Every access is checked: only aligned 4-byte accesses reach registers; anything else reads 0 and
 * is ignored, as are writes to read-only or reserved words.
 */
import type { FdtNode } from '../boot/fdt.js';
import type { AccessSize } from '../vmm/bus.js';
import { unitAddress, type BoardDevice, type FdtPlacement } from './device.js';
import type { IrqLine } from './irq.js';
import { checkMethods, checkOptionsObject, describeValue } from '../option-checks.js';

const PRIORITY_BASE = 0x0;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;
const CONTEXT_CLAIM = 4;

/** QEMU virt implements 3 priority bits (VIRT_IRQCHIP_NUM_PRIO_BITS... priorities 0-7). */
export const PLIC_MAX_PRIORITY = 7;
/** The spec allows 1023 sources (§1); QEMU virt uses 95. */
export const PLIC_MAX_SOURCES = 1023;
/** The S-mode external interrupt as an `interrupts-extended` cell (privileged spec, mip.SEIP = 9). */
const IRQ_S_EXT = 9;
/** An `interrupts-extended` specifier of 0xffffffff marks a context with no connected output
 * (QEMU virt writes M contexts like this when the M-mode PLIC context is not used). */
const IRQ_NOT_CONNECTED = 0xffff_ffff;

/** A device's `irqNumber` option: the PLIC source it drives, 1..PLIC_MAX_SOURCES (source 0 does not
 * exist, PLIC spec §1). TypeError for a non-number, RangeError otherwise. */
export function checkIrqNumber(who: string, irqNumber: unknown): asserts irqNumber is number {
  if (typeof irqNumber !== 'number') throw new TypeError(`${who}: irqNumber must be a number (a PLIC source), got ${describeValue(irqNumber)}`);
  if (!Number.isInteger(irqNumber) || irqNumber < 1 || irqNumber > PLIC_MAX_SOURCES) throw new RangeError(`${who}: irqNumber ${irqNumber} is not a PLIC source (1..${PLIC_MAX_SOURCES})`);
}

export interface PlicOptions {
  /** Number of sources (riscv,ndev): sources 1..ndev exist. */
  ndev: number;
  /** One S-mode external-interrupt line per hart, in hart order. */
  hartLines: readonly IrqLine[];
}

export interface PlicSnapshot {
  priority: number[];
  /** Per source (index 0 unused). */
  pending: boolean[];
  inFlight: boolean[];
  level: boolean[];
  /** enable[context][source] */
  enable: boolean[][];
  threshold: number[];
}

export class Plic implements BoardDevice<PlicSnapshot> {
  readonly isInterruptController = true;
  readonly ndev: number;
  readonly contexts: number;
  private readonly hartLines: readonly IrqLine[];
  private readonly words: number;

  private priority: Uint8Array;
  private pending: Uint8Array;
  private inFlight: Uint8Array;
  private level: Uint8Array;
  /** enable[ctx * (ndev + 1) + source] */
  private enable: Uint8Array;
  private threshold: Uint8Array;
  private hartLevel: boolean[];

  constructor(opts: PlicOptions) {
    checkOptionsObject('Plic', opts);
    if (typeof opts.ndev !== 'number') throw new TypeError(`Plic: ndev must be a number, got ${describeValue(opts.ndev)}`);
    if (!Array.isArray(opts.hartLines)) throw new TypeError(`Plic: hartLines must be an array of IrqLine, got ${describeValue(opts.hartLines)}`);
    // Each line is raised at a guest's claim/complete: a bad one must fail here, not then.
    opts.hartLines.forEach((l, i) => checkMethods('Plic', `hartLines[${i}]`, l, ['set'], false));
    if (!Number.isInteger(opts.ndev) || opts.ndev < 1 || opts.ndev > PLIC_MAX_SOURCES) throw new RangeError(`ndev ${opts.ndev} is not 1..${PLIC_MAX_SOURCES}`);
    if (opts.hartLines.length < 1) throw new RangeError('a PLIC needs at least one hart');
    // 15872 contexts fit the spec's map (§3); far more than any VM here.
    if (opts.hartLines.length * 2 > 15872) throw new RangeError(`${opts.hartLines.length} harts need more than 15872 PLIC contexts`);
    this.ndev = opts.ndev;
    this.hartLines = opts.hartLines;
    this.contexts = opts.hartLines.length * 2;
    this.words = Math.ceil((opts.ndev + 1) / 32);
    this.priority = new Uint8Array(opts.ndev + 1);
    this.pending = new Uint8Array(opts.ndev + 1);
    this.inFlight = new Uint8Array(opts.ndev + 1);
    this.level = new Uint8Array(opts.ndev + 1);
    this.enable = new Uint8Array(this.contexts * (opts.ndev + 1));
    this.threshold = new Uint8Array(this.contexts);
    this.hartLevel = opts.hartLines.map(() => false);
  }

  /** Size of the register window for this many contexts (QEMU's VIRT_PLIC_SIZE). */
  static windowSize(harts: number): number {
    return CONTEXT_BASE + harts * 2 * CONTEXT_STRIDE;
  }

  /** The line a device drives for source `irq`. */
  irqLine(irq: number): IrqLine {
    this.checkSource(irq);
    return { set: (level) => this.setSource(irq, level) };
  }

  /** A level-triggered source's input changed (spec §5, gateway). */
  setSource(irq: number, level: boolean): void {
    this.checkSource(irq);
    this.level[irq] = level ? 1 : 0;
    if (level && !this.inFlight[irq]) this.pending[irq] = 1;
    // A level source whose line drops before being claimed is no longer pending: QEMU and kvmtool
    // both model the pending bit as following the level until the claim.
    if (!level && !this.inFlight[irq]) this.pending[irq] = 0;
    this.updateOutputs();
  }

  private checkSource(irq: number): void {
    if (!Number.isInteger(irq) || irq < 1 || irq > this.ndev) throw new RangeError(`PLIC source ${irq} is not 1..${this.ndev}`);
  }

  read(offset: number, size: AccessSize): number {
    if (size !== 4 || offset % 4 !== 0) return 0;
    if (offset < PENDING_BASE) {
      const src = (offset - PRIORITY_BASE) / 4;
      return src <= this.ndev ? this.priority[src]! : 0;
    }
    if (offset < ENABLE_BASE) {
      const w = (offset - PENDING_BASE) / 4;
      return w < this.words ? this.bitsWord(this.pending, 0, w) : 0;
    }
    if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      if (ctx >= this.contexts || w >= this.words) return 0;
      return this.bitsWord(this.enable, ctx * (this.ndev + 1), w);
    }
    const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
    const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (ctx >= this.contexts) return 0;
    if (reg === 0) return this.threshold[ctx]!;
    if (reg === CONTEXT_CLAIM) return this.claim(ctx);
    return 0;
  }

  write(offset: number, size: AccessSize, wide: bigint): void {
    if (size !== 4 || offset % 4 !== 0) return;
    const value = Number(wide & 0xffff_ffffn);
    if (offset < PENDING_BASE) {
      const src = (offset - PRIORITY_BASE) / 4;
      if (src >= 1 && src <= this.ndev) this.priority[src] = Math.min(value, PLIC_MAX_PRIORITY) & PLIC_MAX_PRIORITY;
    } else if (offset < ENABLE_BASE) {
      return; // pending bits are read-only here (spec §3: "may be" writable; QEMU ignores writes)
    } else if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      if (ctx >= this.contexts || w >= this.words) return;
      const base = ctx * (this.ndev + 1);
      for (let b = 0; b < 32; b++) {
        const src = w * 32 + b;
        if (src === 0 || src > this.ndev) continue; // source 0 is hard-wired to zero
        this.enable[base + src] = (value >>> b) & 1;
      }
    } else {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (ctx >= this.contexts) return;
      if (reg === 0) this.threshold[ctx] = Math.min(value, PLIC_MAX_PRIORITY);
      else if (reg === CONTEXT_CLAIM) this.complete(ctx, value);
      else return;
    }
    this.updateOutputs();
  }

  /** Spec §8 "Interrupt Claim Process": the best pending, enabled source above the threshold
   * (highest priority, ties to the lowest id), or 0; its pending bit clears and it goes in flight. */
  private claim(ctx: number): number {
    const src = this.best(ctx);
    if (src !== 0) {
      this.pending[src] = 0;
      this.inFlight[src] = 1;
      this.updateOutputs();
    }
    return src;
  }

  /** Spec §9 "Interrupt Completion": an id not enabled for this context is silently ignored. */
  private complete(ctx: number, src: number): void {
    if (src < 1 || src > this.ndev) return;
    if (!this.enable[ctx * (this.ndev + 1) + src]) return;
    this.inFlight[src] = 0;
    if (this.level[src]) this.pending[src] = 1;
  }

  private best(ctx: number): number {
    const base = ctx * (this.ndev + 1);
    const threshold = this.threshold[ctx]!;
    let best = 0;
    let bestPriority = threshold;
    for (let src = 1; src <= this.ndev; src++) {
      const p = this.priority[src]!;
      if (p > bestPriority && this.pending[src] && this.enable[base + src]) {
        best = src;
        bestPriority = p;
      }
    }
    return best;
  }

  private bitsWord(bits: Uint8Array, base: number, w: number): number {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const src = w * 32 + b;
      if (src <= this.ndev && bits[base + src]) v |= 1 << b;
    }
    return v >>> 0;
  }

  /** Re-evaluates every S context and tells a hart when its level changes. */
  private updateOutputs(): void {
    for (let h = 0; h < this.hartLines.length; h++) {
      const level = this.best(2 * h + 1) !== 0;
      if (level !== this.hartLevel[h]) {
        this.hartLevel[h] = level;
        this.hartLines[h]!.set(level);
      }
    }
  }

  /** The level this PLIC drives on hart `h`'s S-mode external interrupt. */
  hartInterruptLevel(h: number): boolean {
    return this.hartLevel[h] ?? false;
  }

  writeFdtNode(parent: FdtNode, at: FdtPlacement): FdtNode {
    if (at.cpuIntcPhandles.length !== this.hartLines.length) {
      throw new RangeError(`the PLIC serves ${this.hartLines.length} harts but ${at.cpuIntcPhandles.length} cpu-intc phandles were given`);
    }
    const cells: number[] = [];
    for (const ph of at.cpuIntcPhandles) cells.push(ph, IRQ_NOT_CONNECTED, ph, IRQ_S_EXT);
    const node = parent.addNode(`plic@${unitAddress(at.base)}`)
      .setStringList('compatible', ['sifive,plic-1.0.0', 'riscv,plic0'])
      .setAddressCells('reg', [at.base, at.size])
      .setU32('#interrupt-cells', 1)
      .setU32('#address-cells', 0)
      .setEmpty('interrupt-controller')
      .setU32('riscv,ndev', this.ndev)
      .setCells('interrupts-extended', cells);
    node.phandle();
    return node;
  }

  snapshot(): PlicSnapshot {
    const flags = (a: Uint8Array): boolean[] => Array.from(a, (v) => v !== 0);
    const n = this.ndev + 1;
    return {
      priority: Array.from(this.priority),
      pending: flags(this.pending),
      inFlight: flags(this.inFlight),
      level: flags(this.level),
      enable: Array.from({ length: this.contexts }, (_, c) => flags(this.enable.subarray(c * n, (c + 1) * n))),
      threshold: Array.from(this.threshold),
    };
  }

  restore(s: PlicSnapshot): void {
    const n = this.ndev + 1;
    const list = <T>(name: string, v: unknown, len: number): T[] => {
      if (!Array.isArray(v) || v.length !== len) throw new RangeError(`plic snapshot: ${name} must have ${len} entries`);
      return v as T[];
    };
    const prio = (name: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > PLIC_MAX_PRIORITY) throw new RangeError(`plic snapshot: ${name} is not a priority`);
      return v;
    };
    const priority = list<unknown>('priority', s.priority, n).map((v, i) => (i === 0 ? 0 : prio(`priority[${i}]`, v)));
    const threshold = list<unknown>('threshold', s.threshold, this.contexts).map((v, i) => prio(`threshold[${i}]`, v));
    const enableRows = list<unknown>('enable', s.enable, this.contexts).map((row, c) => list<unknown>(`enable[${c}]`, row, n));
    const bits = (name: string, v: unknown): Uint8Array => Uint8Array.from(list<unknown>(name, v, n), (b, i) => (i !== 0 && b === true ? 1 : 0));
    this.priority = Uint8Array.from(priority);
    this.threshold = Uint8Array.from(threshold);
    this.pending = bits('pending', s.pending);
    this.inFlight = bits('inFlight', s.inFlight);
    this.level = bits('level', s.level);
    this.enable = new Uint8Array(this.contexts * n);
    enableRows.forEach((row, c) => row.forEach((b, i) => { if (i !== 0 && b === true) this.enable[c * n + i] = 1; }));
    // Announce every hart's level afresh: the vCPUs may be new.
    for (let h = 0; h < this.hartLines.length; h++) {
      this.hartLevel[h] = this.best(2 * h + 1) !== 0;
      this.hartLines[h]!.set(this.hartLevel[h]!);
    }
  }
}
