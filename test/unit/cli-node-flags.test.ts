// The CLI's node flags (lib/cli/main.ts first line) and their reader (lib/cli/node-flags.ts), which
// benchmarks and the e2e tests use to start the CLI as its bin would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliBin, shebangNodeFlags } from '../../lib/cli/node-flags.js';
import { builtFile } from '../support/paths.js';

const MAIN = join(__dirname, '..', '..', 'lib', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-shebang-'));
function file(first: string): string {
  const p = join(dir, `f${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(p, `${first}\nconsole.log(1);\n`);
  return p;
}

describe('shebangNodeFlags', () => {
  it('reads the flags after node on an env -S line', () => {
    expect(shebangNodeFlags(file('#!/usr/bin/env -S node --a=1  --b'))).toEqual(['--a=1', '--b']);
  });
  it('gives none for a plain node line', () => {
    expect(shebangNodeFlags(file('#!/usr/bin/env node'))).toEqual([]);
  });
  it('names the file when its first line is not a node shebang', () => {
    const p = file('// no shebang');
    expect(() => shebangNodeFlags(p)).toThrow(p);
    expect(() => shebangNodeFlags(file('#!/usr/bin/env python3'))).toThrow(/not a "#!\/usr\/bin\/env/);
  });
});

describe('the kvm-riscv bin', () => {
  it('asks node for one V8 worker thread, a 1 MiB semi-space, a 30% heap growth step, gc() and longer-kept maps (memory, issue 5)', () => {
    expect(shebangNodeFlags(MAIN)).toEqual(['--v8-pool-size=1', '--max-semi-space-size=1', '--heap-growing-percent=30', '--expose-gc', '--retain-maps-for-n-gc=16']);
  });
  it('uses flags this node accepts, and they take effect', () => {
    // The young generation's capacity is 2 semi-spaces; with 1 MiB each it stays at <= 2 MiB
    // however much is allocated (default: grows to 16 MiB and more).
    const probe = 'const a=[];for(let i=0;i<3e5;i++)a.push({i});' +
      "const s=require('v8').getHeapSpaceStatistics().find((x)=>x.space_name==='new_space');" +
      'console.log(s.space_size)';
    const withFlags = spawnSync(process.execPath, [...shebangNodeFlags(MAIN), '-e', probe], { encoding: 'utf8' });
    expect(withFlags.status, withFlags.stderr).toBe(0);
    const without = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(Number(withFlags.stdout)).toBeLessThanOrEqual(2 << 20);
    expect(Number(without.stdout)).toBeGreaterThan(2 << 20);
  });

  it('is the bundle package.json names (npm run build), carrying the same first line as main.ts', () => {
    const bin = cliBin(join(__dirname, '..', '..'));
    expect(bin.endsWith(join('dist', 'cli', 'kvm-riscv.cjs'))).toBe(true);
    builtFile(bin);
    expect(shebangNodeFlags(bin)).toEqual(shebangNodeFlags(MAIN));
    expect(statSync(bin).mode & 0o111).not.toBe(0);
  });
});
