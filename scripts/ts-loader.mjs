// Run TypeScript directly: `node --import ./scripts/ts-loader.mjs file.ts`.
//
// This one file plays two parts. Imported normally (by --import), it registers itself as an ESM
// loader (node:module register(), Node >= 20.6) under the URL query `?hooks`. Loaded as that loader,
// on Node's loader thread, it exports the two hooks:
//   - resolve: a relative `./x.js` specifier becomes `./x.ts` when only the .ts file exists (the
//     sources import with .js extensions, as NodeNext resolution requires for the built output);
//   - load: every .ts file is transpiled with esbuild's transform (types stripped, nothing checked:
//     `npm run typecheck` does the checking).
// Used by the CLI in development, by scripts and benches, and by tests that spawn the CLI.
import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const isHooksInstance = new URL(import.meta.url).searchParams.has('hooks');
if (!isHooksInstance) register(new URL('?hooks', import.meta.url).href);

const isPathLike = (s) => s.startsWith('./') || s.startsWith('../') || s.startsWith('/') || s.startsWith('file:');

export async function resolve(specifier, context, nextResolve) {
  if (isPathLike(specifier) && specifier.endsWith('.js') && context.parentURL) {
    const jsUrl = new URL(specifier, context.parentURL);
    const tsUrl = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (jsUrl.protocol === 'file:' && !existsSync(fileURLToPath(jsUrl)) && existsSync(fileURLToPath(tsUrl))) {
      return { url: tsUrl.href, format: 'module', shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

// Transpiled output is cached under <repo>/.cache/ts-loader, keyed by path, size and mtime, so
// repeated runs (tests spawn the CLI many times) skip esbuild entirely. The cache is disposable.
const CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'ts-loader');
let esbuild;

async function transpile(path) {
  const st = await stat(path);
  const key = createHash('sha1').update(`${path}\0${st.size}\0${st.mtimeMs}`).digest('hex');
  const cached = join(CACHE_DIR, `${key}.js`);
  try {
    return await readFile(cached, 'utf8');
  } catch { /* not cached yet */ }
  esbuild ??= await import('esbuild');
  const out = await esbuild.transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    sourcemap: 'inline',
  });
  try {
    await mkdir(CACHE_DIR, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(tmp, out.code);
    await rename(tmp, cached); // atomic: parallel runs never read a half-written file
  } catch { /* a read-only checkout still works, uncached */ }
  return out.code;
}

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && (url.endsWith('.ts') || url.endsWith('.mts'))) {
    return { format: 'module', source: await transpile(fileURLToPath(url)), shortCircuit: true };
  }
  return nextLoad(url, context);
}
