/**
 * A 16550A UART register model (National Semiconductor PC16550D datasheet, "Register Description"
 * and "FIFO Interrupt Mode Operation"), as on QEMU's virt board: byte-wide registers, reg-shift 0.
 *
 * Transmission is instantaneous: a THR write goes straight to the injected sink, so THRE and TEMT
 * always read 1. Received bytes come from the host through input(); the host side is a queue that
 * stands in for the wire, and the 16-byte receive FIFO is its head, so fast host input is never
 * lost to overrun (the host is the flow control). Only loopback (MCR bit 4) can overrun the FIFO.
 *
 * Not modelled: baud timing (the divisor is stored and read back only), the character-timeout
 * timer (a FIFO holding fewer bytes than the trigger level reports the timeout interrupt at once,
 * which is what a driver would see a few character times later) and modem-status deltas.
 */
import type { FdtNode } from '../boot/fdt.js';
import type { AccessSize } from '../vmm/bus.js';
import { unitAddress, type BoardDevice, type FdtPlacement } from './device.js';
import { DISCONNECTED_IRQ, type IrqLine } from './irq.js';
import { checkFunction, checkInputBytes, checkMethods, checkOptionsObject } from '../option-checks.js';
import { checkIrqNumber } from './plic.js';

// Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0/1).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_ERBFI = 0x01; // received data available
const IER_ETBEI = 0x02; // transmitter holding register empty
const IER_ELSI = 0x04; // receiver line status
const IER_MASK = 0x0f;

const IIR_NO_INT = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_CTI = 0x0c;
const IIR_THRE = 0x02;
const IIR_FIFO_ENABLED = 0xc0;

const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_CLEAR_TX = 0x04;

const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const MCR_MASK = 0x1f;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

// MSR with the line "connected": DCD, DSR and CTS asserted (as QEMU reports outside loopback).
const MSR_CONNECTED = 0x80 | 0x20 | 0x10;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** Bytes the host may queue ahead of the guest; input() beyond this is refused (and says so). */
export const UART_HOST_QUEUE_LIMIT = 64 * 1024;
/** The QEMU virt UART clock (hw/char/serial: 1.8432 MHz × 2), which Linux divides for the baud rate. */
export const UART_CLOCK_FREQUENCY = 3_686_400;

export interface Ns16550aOptions {
  /** Receives each transmitted byte (in order, one call per THR write). */
  sink?: (data: Uint8Array) => void;
  irq?: IrqLine;
  /** The `interrupts` cell of the FDT node (the PLIC source number). */
  irqNumber: number;
}

export interface Ns16550aSnapshot {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  fcr: number;
  lsrOverrun: boolean;
  thrInterruptPending: boolean;
  /** Bytes received and not yet read (the FIFO followed by the host queue). */
  rx: number[];
}

export class Ns16550a implements BoardDevice<Ns16550aSnapshot> {
  private readonly sink: (data: Uint8Array) => void;
  private readonly irq: IrqLine;
  readonly irqNumber: number;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  /** The FCR bits that are readable state: enable and the trigger level (bits 6-7). */
  private fcr = 0;
  private lsrOverrun = false;
  /** The THRE interrupt is armed by a THR write or by enabling ETBEI, and cleared by writing THR
   * or by reading IIR while it is the reported source (datasheet Table IV). */
  private thrInterruptPending = false;
  private rx: number[] = [];
  private rxHead = 0;
  private irqLevel = false;

  constructor(opts: Ns16550aOptions) {
    checkOptionsObject('Ns16550a', opts);
    checkFunction('Ns16550a', 'sink', opts.sink, true);
    checkMethods('Ns16550a', 'irq', opts.irq, ['set'], true);
    checkIrqNumber('Ns16550a', opts.irqNumber);
    this.sink = opts.sink ?? (() => {});
    this.irq = opts.irq ?? DISCONNECTED_IRQ;
    this.irqNumber = opts.irqNumber;
  }

  /** Host → guest bytes (a Uint8Array or byte values 0-255; anything else is refused before a byte
   * is queued). Returns how many were queued (fewer than given only past the limit). */
  input(data: Uint8Array | readonly number[]): number {
    checkInputBytes('Ns16550a.input', data);
    const room = UART_HOST_QUEUE_LIMIT - this.rxCount();
    const n = Math.max(0, Math.min(room, data.length));
    for (let i = 0; i < n; i++) this.rx.push(data[i]! & 0xff);
    this.updateIrq();
    return n;
  }

  /** Bytes waiting for the guest to read. */
  rxCount(): number {
    return this.rx.length - this.rxHead;
  }

  read(offset: number, _size: AccessSize): number {
    // Registers are one byte wide; a wider access reads the byte register at `offset`.
    let value = 0;
    switch (offset) {
      case RBR_THR_DLL:
        value = this.dlab() ? this.dll : this.popRx();
        break;
      case IER_DLM:
        value = this.dlab() ? this.dlm : this.ier;
        break;
      case IIR_FCR:
        value = this.iir();
        // Reading IIR while it reports THRE clears that interrupt (datasheet Table IV).
        if ((value & 0x0f) === IIR_THRE) this.thrInterruptPending = false;
        break;
      case LCR:
        value = this.lcr;
        break;
      case MCR:
        value = this.mcr;
        break;
      case LSR:
        value = this.lsr();
        this.lsrOverrun = false; // OE clears when LSR is read
        break;
      case MSR:
        value = this.msr();
        break;
      case SCR:
        value = this.scr;
        break;
      default:
        value = 0; // the rest of the 0x100 window: reserved, reads as zero
    }
    this.updateIrq();
    return value;
  }

  write(offset: number, _size: AccessSize, wide: bigint): void {
    const value = Number(wide & 0xffn);
    switch (offset) {
      case RBR_THR_DLL:
        if (this.dlab()) this.dll = value;
        else this.transmit(value);
        break;
      case IER_DLM:
        if (this.dlab()) {
          this.dlm = value;
        } else {
          const enablingThre = (value & IER_ETBEI) !== 0 && (this.ier & IER_ETBEI) === 0;
          this.ier = value & IER_MASK;
          // Enabling ETBEI while THR is empty (always, here) raises THRE at once.
          if (enablingThre) this.thrInterruptPending = true;
        }
        break;
      case IIR_FCR:
        this.writeFcr(value);
        break;
      case LCR:
        this.lcr = value;
        break;
      case MCR:
        this.mcr = value & MCR_MASK;
        break;
      case SCR:
        this.scr = value;
        break;
      default:
        break; // LSR and MSR are read-only (writes are "for factory test" only); the rest reserved
    }
    this.updateIrq();
  }

  private dlab(): boolean {
    return (this.lcr & LCR_DLAB) !== 0;
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      // Loopback: the transmitter feeds the receiver; a full FIFO overruns (datasheet, MCR bit 4).
      if (this.visibleRx() >= this.fifoCapacity()) this.lsrOverrun = true;
      else this.rx.push(byte);
    } else {
      this.sink(Uint8Array.of(byte));
    }
    this.thrInterruptPending = true; // THR is empty again immediately
  }

  private writeFcr(value: number): void {
    const wasEnabled = this.fifoEnabled();
    // Changing FIFO enable clears both FIFOs (datasheet, FCR bit 0); clearing RX drops what the
    // guest has not read of the FIFO proper, not the host queue behind it.
    if ((value & FCR_CLEAR_RX) || ((value & FCR_ENABLE) !== 0) !== wasEnabled) this.dropRxFifo();
    void FCR_CLEAR_TX; // the transmitter never holds data
    this.fcr = value & (FCR_ENABLE | 0xc0);
  }

  private fifoCapacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  /** Bytes the receiver currently holds (the FIFO, or the single RBR). */
  private visibleRx(): number {
    return Math.min(this.rxCount(), this.fifoCapacity());
  }

  private dropRxFifo(): void {
    this.rxHead += this.visibleRx();
    this.compactRx();
  }

  private popRx(): number {
    if (this.rxCount() === 0) return 0;
    const b = this.rx[this.rxHead++]!;
    this.compactRx();
    return b;
  }

  private compactRx(): void {
    if (this.rxHead === this.rx.length) {
      this.rx = [];
      this.rxHead = 0;
    } else if (this.rxHead > 4096) {
      this.rx = this.rx.slice(this.rxHead);
      this.rxHead = 0;
    }
  }

  private lsr(): number {
    let v = LSR_THRE | LSR_TEMT;
    if (this.rxCount() > 0) v |= LSR_DR;
    if (this.lsrOverrun) v |= LSR_OE;
    return v;
  }

  private msr(): number {
    if (!(this.mcr & MCR_LOOP)) return MSR_CONNECTED;
    // Loopback wires DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD (datasheet, MCR bit 4).
    const m = this.mcr;
    return ((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
  }

  /** The highest-priority pending interrupt (datasheet Table IV): line status, then received data
   * (trigger level reached, else character timeout), then THR empty. */
  private iir(): number {
    const fifoBits = this.fifoEnabled() ? IIR_FIFO_ENABLED : 0;
    if ((this.ier & IER_ELSI) && this.lsrOverrun) return IIR_RLS | fifoBits;
    if ((this.ier & IER_ERBFI) && this.rxCount() > 0) {
      if (!this.fifoEnabled()) return IIR_RDA;
      const trigger = TRIGGER_LEVELS[(this.fcr >> 6) & 3]!;
      return (this.visibleRx() >= trigger ? IIR_RDA : IIR_CTI) | fifoBits;
    }
    if ((this.ier & IER_ETBEI) && this.thrInterruptPending) return IIR_THRE | fifoBits;
    return IIR_NO_INT | fifoBits;
  }

  private updateIrq(): void {
    const level = (this.iir() & IIR_NO_INT) === 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }

  writeFdtNode(parent: FdtNode, at: FdtPlacement): FdtNode {
    return parent.addNode(`serial@${unitAddress(at.base)}`)
      .setString('compatible', 'ns16550a')
      .setAddressCells('reg', [at.base, at.size])
      .setU32('clock-frequency', UART_CLOCK_FREQUENCY)
      .setU32('interrupts', this.irqNumber)
      .setU32('interrupt-parent', at.interruptParent);
  }

  snapshot(): Ns16550aSnapshot {
    return {
      ier: this.ier, lcr: this.lcr, mcr: this.mcr, scr: this.scr, dll: this.dll, dlm: this.dlm, fcr: this.fcr,
      lsrOverrun: this.lsrOverrun, thrInterruptPending: this.thrInterruptPending,
      rx: this.rx.slice(this.rxHead),
    };
  }

  restore(s: Ns16550aSnapshot): void {
    const byte = (name: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`ns16550a snapshot: ${name} is not a byte`);
      return v;
    };
    if (!Array.isArray(s.rx) || s.rx.length > UART_HOST_QUEUE_LIMIT) throw new RangeError('ns16550a snapshot: rx is not a byte list within the queue limit');
    const rx = s.rx.map((b, i) => byte(`rx[${i}]`, b));
    this.ier = byte('ier', s.ier) & IER_MASK;
    this.lcr = byte('lcr', s.lcr);
    this.mcr = byte('mcr', s.mcr) & MCR_MASK;
    this.scr = byte('scr', s.scr);
    this.dll = byte('dll', s.dll);
    this.dlm = byte('dlm', s.dlm);
    this.fcr = byte('fcr', s.fcr) & (FCR_ENABLE | 0xc0);
    this.lsrOverrun = Boolean(s.lsrOverrun);
    this.thrInterruptPending = Boolean(s.thrInterruptPending);
    this.rx = rx;
    this.rxHead = 0;
    // Re-announce the level: the line's listener may have been rebuilt with the machine.
    this.irqLevel = (this.iir() & IIR_NO_INT) === 0;
    this.irq.set(this.irqLevel);
  }
}
