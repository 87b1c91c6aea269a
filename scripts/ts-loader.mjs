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
import { readFile } from 'node:fs/promises';
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

let esbuild;
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && (url.endsWith('.ts') || url.endsWith('.mts'))) {
    esbuild ??= await import('esbuild');
    const path = fileURLToPath(url);
    const out = await esbuild.transform(await readFile(path, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: path,
      sourcemap: 'inline',
    });
    return { format: 'module', source: out.code, shortCircuit: true };
  }
  return nextLoad(url, context);
}
