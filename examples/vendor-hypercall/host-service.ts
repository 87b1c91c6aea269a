/**
 * The "host service": a vendor SBI extension answered by a few lines of TypeScript.
 *
 * EID 0x09C0FFEE is in the vendor range (SBI v2.0 §3: 0x09000000-0x09FFFFFF) that KVM forwards to
 * user space as KVM_EXIT_RISCV_SBI, so a VMM script can define its own hypercalls there; the
 * emulator backend forwards the same range. Functions:
 *   FID 0 add(a, b)                    → a + b (mod 2^64)
 *   FID 1 upper_case(address, length)  → length; ASCII a-z in the guest buffer become A-Z
 *   FID 2 sha256_prefix(address, len)  → the first 8 bytes of SHA-256(buffer), big-endian (async)
 * A buffer that is not entirely in guest RAM gets SBI_ERR_INVALID_PARAM (§3.2), found through the
 * checked guest-physical translation every handler receives (ctx.memory); a buffer longer than
 * MAX_BUFFER gets the same, so one guest call cannot make the host copy its whole RAM.
 */
import { createHash } from 'node:crypto';
import { SBI_ERR_INVALID_PARAM } from '../../lib/abi/sbi.js';
import { createUserExtension } from '../../lib/sbi/user-extension.js';
import type { SbiExtension } from '../../lib/sbi/registry.js';

export const HOST_SERVICE_EID = 0x09c0ffee;
const MAX_BUFFER = 1 << 20;

export function hostService(): SbiExtension {
  const invalid = { error: SBI_ERR_INVALID_PARAM, value: 0 };
  return createUserExtension({
    name: 'host service',
    eid: HOST_SERVICE_EID,
    functions: {
      0: ([a = 0n, b = 0n]) => ({ error: 0, value: BigInt.asUintN(64, a + b) }),
      1: ([address = 0n, length = 0n], { memory }) => {
        if (length > BigInt(MAX_BUFFER)) return invalid;
        const bytes = memory.readBytes(address, Number(length));
        if (!bytes) return invalid;
        for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x61 && bytes[i]! <= 0x7a) bytes[i] = bytes[i]! - 0x20;
        return memory.writeBytes(address, bytes) ? { error: 0, value: length } : invalid;
      },
      // Async: the vCPU waits in its run loop while the promise settles; other vCPUs keep running.
      2: async ([address = 0n, length = 0n], { memory }) => {
        if (length > BigInt(MAX_BUFFER)) return invalid;
        const bytes = memory.readBytes(address, Number(length));
        if (!bytes) return invalid;
        const digest = await new Promise<Buffer>((resolve) => setImmediate(() => resolve(createHash('sha256').update(bytes).digest())));
        return { error: 0, value: digest.readBigUInt64BE(0) };
      },
    },
  });
}
