// lib/cli/host-input.ts: the CLI's console input from stdin. (That the bin opens no stream on a
// stdin from /dev/null is checked end to end in test/e2e/cli-bare-metal.test.ts.)
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isDevNull, terminalInput } from '../../lib/cli/host-input.js';

describe('isDevNull', () => {
  it('knows /dev/null from a regular file and from a descriptor that is not open', () => {
    const nul = openSync('/dev/null', 'r');
    const file = join(mkdtempSync(join(tmpdir(), 'kvm-riscv-input-')), 'f');
    writeFileSync(file, 'x');
    const reg = openSync(file, 'r');
    try {
      expect(isDevNull(nul)).toBe(true);
      expect(isDevNull(reg)).toBe(false);
    } finally {
      closeSync(nul);
      closeSync(reg);
    }
    expect(isDevNull(987654)).toBe(false);
  });
});

describe('terminalInput', () => {
  it('passes the bytes of a stream that is not a terminal through, until cleaned up', () => {
    const stream = new PassThrough();
    const got: number[] = [];
    const stop = terminalInput(stream as unknown as NodeJS.ReadStream)((b) => got.push(...b), () => {});
    stream.write(Buffer.from([1, 2, 0x01, 0x78])); // no escape handling without a terminal
    expect(got).toEqual([1, 2, 0x01, 0x78]);
    stop();
    stream.write(Buffer.from([9]));
    expect(got).toEqual([1, 2, 0x01, 0x78]);
  });
});
