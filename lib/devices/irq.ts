/**
 * Interrupt wiring between device models and whatever carries the interrupt (the PLIC for device
 * lines, a vCPU's external-interrupt level for the PLIC's S-mode contexts). A device only ever sees
 * an IrqLine: it sets a level and knows nothing about who listens (style guide, example 4).
 */

import { checkMethods } from '../option-checks.js';

/** A level-triggered interrupt line. Devices call set() whenever their level may have changed;
 * listeners must tolerate repeated calls with the same level. */
export interface IrqLine {
  set(level: boolean): void;
}

/** A line that goes nowhere, for devices used without an interrupt controller. */
export const DISCONNECTED_IRQ: IrqLine = { set: () => {} };

/** A line that remembers its level and counts rising edges; handy for tests and diagnostics. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  rises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
}

/** Wraps a line so that only changes of level reach it (saves a vCPU ioctl per register access). */
export class EdgeFilteredIrqLine implements IrqLine {
  private current: boolean | undefined;
  constructor(private readonly target: IrqLine) {
    checkMethods('EdgeFilteredIrqLine', 'target', target, ['set'], false);
  }
  set(level: boolean): void {
    if (level === this.current) return;
    this.current = level;
    this.target.set(level);
  }
  /** Forgets the last level so the next set() always reaches the target (after restore()). */
  resync(): void {
    this.current = undefined;
  }
}
