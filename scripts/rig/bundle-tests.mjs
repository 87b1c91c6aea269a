#!/usr/bin/env node
// Bundle test files into ONE ES module that runs them all in a single node process, for the
// nested rig where node is slow to start and vitest too heavy (test/rig/vitest-shim.ts says why).
//
//   node scripts/rig/bundle-tests.mjs [--out DIR] [FILE|DIR ...]
//
// Inputs default to the KVM suite: test/kvm, test/conformance (every *.test.ts below them) and
// test/rig/smoke-guest.test.ts. Writes DIR/kvm-tests.mjs and DIR/reporter.mjs (default
// .cache/rig/bundle), and prints the bundled files. Run the result with
//   node --test-reporter=DIR/reporter.mjs --test-reporter-destination=stdout DIR/kvm-tests.mjs
//
// `vitest` is aliased to the shim; `*.node` addons stay external because the KVM loader finds the
// addon by path at run time ($KVM_RISCV_ROOT/prebuilds/...), and so do node: builtins.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHIM = join(REPO, 'test', 'rig', 'vitest-shim.ts');
const REPORTER = join(REPO, 'test', 'rig', 'reporter.ts');
const DEFAULT_INPUTS = ['test/kvm', 'test/conformance', 'test/rig/smoke-guest.test.ts'];

function testFilesUnder(path) {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  const out = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...testFilesUnder(full));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

export async function bundleTests({ inputs = DEFAULT_INPUTS, outDir = join(REPO, '.cache', 'rig', 'bundle'), cwd = REPO } = {}) {
  const files = [...new Set(inputs.flatMap((p) => testFilesUnder(resolve(cwd, p))))].sort();
  mkdirSync(outDir, { recursive: true });
  const rel = (f) => relative(REPO, f).split(sep).join('/');

  // The entry imports every file; the plugin below prefixes each file's body with
  // __beginFile(<path>) so the shim knows which file declares what (imports are hoisted, so the
  // call runs after the file's own imports and before its first describe).
  const entry = [
    ...files.map((f) => `import ${JSON.stringify(f)};`),
    `import { __runCollected } from ${JSON.stringify(SHIM)};`,
    '__runCollected();',
  ].join('\n');
  const testFiles = new Set(files);
  const markFiles = {
    name: 'kvm-rig-mark-test-files',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (!testFiles.has(args.path)) return undefined;
        const src = readFileSync(args.path, 'utf8');
        const prefix = `import { __beginFile as __kvmRigBeginFile } from ${JSON.stringify(SHIM)};\n__kvmRigBeginFile(${JSON.stringify(rel(args.path))});\n`;
        return { contents: prefix + src, loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };

  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'warning',
    // Bundled CommonJS code calls require(); give the ES module one.
    banner: { js: "import { createRequire as __kvmRigCreateRequire } from 'node:module'; const require = __kvmRigCreateRequire(import.meta.url);" },
  };
  await build({
    ...common,
    stdin: { contents: entry, resolveDir: REPO, sourcefile: 'kvm-rig-entry.mjs', loader: 'js' },
    outfile: join(outDir, 'kvm-tests.mjs'),
    alias: { vitest: SHIM },
    external: ['*.node'],
    plugins: [markFiles],
  });
  await build({ ...common, entryPoints: [REPORTER], outfile: join(outDir, 'reporter.mjs') });
  writeFileSync(join(outDir, 'files.txt'), files.map(rel).join('\n') + '\n');
  return { files: files.map(rel), outDir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let outDir;
  const inputs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') outDir = resolve(args[++i]);
    else inputs.push(args[i]);
  }
  const { files, outDir: dir } = await bundleTests({ inputs: inputs.length ? inputs : undefined, outDir, cwd: process.cwd() });
  if (files.length === 0) console.error('bundle-tests: warning: no test files found');
  console.log(`bundle-tests: ${files.length} file(s) -> ${relative(process.cwd(), dir) || '.'}`);
  for (const f of files) console.log(`  ${f}`);
}
