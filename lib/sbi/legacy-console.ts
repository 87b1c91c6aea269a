/**
 * Legacy SBI v0.1 console (SBI v2.0 chapter 5, "Legacy Extensions"):
 *   EID 0x01 sbi_console_putchar(ch) and EID 0x02 sbi_console_getchar() → ch or -1.
 * v0.1 calls ignore a6 (FID) and return only a0 (§5: "return value in a0"); a1 is not meaningful
 * (KVM copies ret[1] to a1 anyway, so we leave it 0).
 *
 * KVM forwards these only when the host kernel is built with CONFIG_RISCV_SBI_V01 (not Debian's),
 * and the emulator only with VmOptions.sbiV01; registering them is harmless otherwise.
 */
import { SBI_ERR_FAILED, SBI_EXT_0_1_CONSOLE_GETCHAR, SBI_EXT_0_1_CONSOLE_PUTCHAR } from '../abi/sbi.js';
import { checkConsoleEnds, type ConsoleInput, type ConsoleOutput } from './dbcn.js';
import type { SbiExtension } from './registry.js';

export function createLegacyConsoleExtensions(opts: { output: ConsoleOutput; input?: ConsoleInput }): SbiExtension[] {
  checkConsoleEnds('createLegacyConsoleExtensions', opts);
  return [
    {
      name: 'legacy console_putchar',
      eid: SBI_EXT_0_1_CONSOLE_PUTCHAR,
      handle(call) {
        try {
          opts.output.write(Uint8Array.of(Number((call.args[0] ?? 0n) & 0xffn)));
        } catch {
          return { error: SBI_ERR_FAILED, value: 0 };
        }
        return { error: 0, value: 0 };
      },
    },
    {
      name: 'legacy console_getchar',
      eid: SBI_EXT_0_1_CONSOLE_GETCHAR,
      handle() {
        let b: Uint8Array;
        try {
          b = opts.input ? opts.input.read(1) : new Uint8Array(0);
        } catch {
          b = new Uint8Array(0);
        }
        // -1 when nothing is waiting, as OpenSBI, kvmtool and QEMU return.
        return { error: b.length > 0 ? b[0]! : -1, value: 0 };
      },
    },
  ];
}
