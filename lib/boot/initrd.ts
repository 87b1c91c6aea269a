/**
 * Where the initial ramdisk goes. Linux finds it through /chosen linux,initrd-start and
 * linux,initrd-end (Documentation/devicetree/bindings/chosen.txt; end is exclusive) and needs it
 * in RAM, outside the kernel's image_size and the FDT. We put it as high as possible: page-aligned,
 * ending at the FDT's 2 MiB slot at the top of RAM (layout.ts fdtAddress), so it stays clear of the
 * kernel and of whatever the kernel allocates early from low memory.
 */
import { FDT_ALIGN, PAGE_SIZE, RAM_BASE } from './layout.js';
import { checkU64, describeValue } from '../option-checks.js';

export interface InitrdPlacement {
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

export function placeInitrd(ramSize: number, initrdSize: number, imageEnd: bigint, fdtAddr: bigint): InitrdPlacement {
  if (typeof ramSize !== 'number') throw new TypeError(`placeInitrd: RAM size must be a number of bytes, got ${describeValue(ramSize)}`);
  if (!Number.isSafeInteger(ramSize) || ramSize <= 0) throw new RangeError(`RAM size must be a positive whole number of bytes, got ${ramSize}`);
  if (typeof initrdSize !== 'number') throw new TypeError(`initrd size must be a number of bytes, got ${typeof initrdSize}`);
  if (!Number.isSafeInteger(initrdSize) || initrdSize < 0) throw new RangeError(`initrd size must be a whole number of bytes, got ${initrdSize}`);
  if (initrdSize === 0) throw new RangeError('the initrd is empty (0 bytes)');
  checkU64('placeInitrd', 'imageEnd', imageEnd);
  checkU64('placeInitrd', 'fdtAddr', fdtAddr);
  const ramEnd = RAM_BASE + BigInt(ramSize);
  // Everything between the FDT slot and the end of RAM belongs to the FDT.
  const limit = fdtAddr < ramEnd ? fdtAddr : ramEnd - FDT_ALIGN;
  const start = ((limit - BigInt(initrdSize)) / BigInt(PAGE_SIZE)) * BigInt(PAGE_SIZE);
  if (start < imageEnd) {
    throw new RangeError(`no room for the ${initrdSize}-byte initrd between the kernel (ends at 0x${imageEnd.toString(16)}) and the FDT (0x${fdtAddr.toString(16)}): give more --memory`);
  }
  return { start, end: start + BigInt(initrdSize) };
}
