/**
 * The F and D extensions (RISC-V unprivileged spec, chapters "F" and "D"): one entry point the
 * emulated hart calls for major opcodes 0x43 FMADD, 0x47 FMSUB, 0x4B FNMSUB, 0x4F FNMADD and
 * 0x53 OP-FP. Loads/stores (FLW/FLD/FSW/FSD) and the fcsr CSRs stay with the hart.
 *
 * First version: decoding only; the arithmetic follows in fp/.
 */

/** Executes one F/D instruction; false means the encoding is illegal (the hart raises an
 * illegal-instruction exception and nothing was written). */
export function fpExecute(insn: number, x: Int32Array, st: { f: Int32Array; fcsr: number }): boolean {
  void insn;
  void x;
  void st;
  return false;
}
