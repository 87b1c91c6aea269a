/**
 * Runs a fuzz target on a worker thread (fuzz/worker.ts) under a watchdog. A case that makes no
 * progress for `hangMs` — even a synchronous infinite loop, which no timer on the worker's own
 * thread could interrupt — is reported as a 'hang' failure with its case seed, and the worker is
 * terminated. Used by `npm run fuzz` and by the vitest smoke test.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { opsToJson, type FuzzFailure, type TargetReport } from './harness.js';
import { Rng } from './rng.js';
import { TARGETS } from './targets/index.js';
import type { WorkerInput } from './worker.js';

export interface WorkerRunOptions {
  seed: number;
  timeMs?: number;
  maxCases?: number;
  keepGoing?: boolean;
  /** Replay exactly these case seeds instead of a run. */
  caseSeeds?: number[];
  /** No new case for this long means the current one hangs. */
  hangMs: number;
}

const TS_LOADER = fileURLToPath(new URL('../scripts/ts-loader.mjs', import.meta.url));

/**
 * Runs the target; with keepGoing, a hang does not end the run: a new worker resumes at the case
 * after the hung one until the time or case budget is spent, and the reports are merged.
 */
export async function runTargetInWorker(name: string, opts: WorkerRunOptions): Promise<TargetReport> {
  const started = performance.now();
  const total: TargetReport = { target: name, cases: 0, expectedErrors: 0, failures: [], elapsedMs: 0, casesPerSecond: 0 };
  for (;;) {
    const elapsed = performance.now() - started;
    const timeMs = opts.timeMs === undefined ? undefined : opts.timeMs - elapsed;
    const maxCases = opts.maxCases === undefined ? undefined : opts.maxCases - total.cases;
    const r = await runWorkerOnce(name, { ...opts, timeMs, maxCases }, total.cases);
    total.cases += r.cases;
    total.expectedErrors += r.expectedErrors;
    total.failures.push(...r.failures);
    const hung = r.failures.some((f) => f.kind === 'hang');
    const budgetLeft = (timeMs === undefined || performance.now() - started < opts.timeMs!) && (maxCases === undefined || total.cases < opts.maxCases!);
    if (!hung || !opts.keepGoing || opts.caseSeeds || !budgetLeft) break;
  }
  total.elapsedMs = performance.now() - started;
  total.casesPerSecond = total.cases / Math.max(total.elapsedMs / 1000, 1e-9);
  return total;
}

function runWorkerOnce(name: string, opts: WorkerRunOptions, firstCase: number): Promise<TargetReport> {
  const progress = new SharedArrayBuffer(8);
  const counters = new Int32Array(progress);
  const input: WorkerInput = { target: name, seed: opts.seed, timeMs: opts.timeMs, maxCases: opts.maxCases, firstCase, keepGoing: opts.keepGoing ?? false, caseSeeds: opts.caseSeeds, progress };
  // The worker loads .ts sources through the repo's loader, whether or not this process has it.
  const execArgv = process.execArgv.some((a) => a.includes('ts-loader')) ? process.execArgv : [...process.execArgv, '--import', TS_LOADER];
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: input, execArgv });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let lastCount = -1;
    let lastChange = performance.now();
    const watchdog = setInterval(() => {
      const count = Atomics.load(counters, 0);
      if (count !== lastCount) {
        lastCount = count;
        lastChange = performance.now();
        return;
      }
      if (performance.now() - lastChange < opts.hangMs) return;
      clearInterval(watchdog);
      const seed = Atomics.load(counters, 1) >>> 0;
      void worker.terminate();
      const failure: FuzzFailure = {
        target: name, caseSeed: seed, kind: 'hang', originalOps: 0, reproducer: '[]',
        message: `no progress for ${opts.hangMs / 1000} s: the case never returned (a synchronous loop the case's own budget did not bound)`,
      };
      const elapsedMs = performance.now() - started;
      void describeHang(name, failure).then(() => {
        resolve({ target: name, cases: count, expectedErrors: 0, failures: [failure], elapsedMs, casesPerSecond: count / (elapsedMs / 1000) });
      }, reject);
    }, Math.min(500, opts.hangMs / 4));
    worker.once('message', (report: TargetReport) => {
      clearInterval(watchdog);
      void worker.terminate();
      resolve(report);
    });
    worker.once('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
  });
}

/** A hung case cannot be shrunk (running it again hangs again): its reproducer is the whole
 * operation list, regenerated here from the seed. */
async function describeHang(name: string, failure: FuzzFailure): Promise<void> {
  const factory = TARGETS.find((t) => t.name === name);
  if (!factory) return;
  const target = await factory.create();
  try {
    const ops = target.generate(new Rng(failure.caseSeed));
    failure.reproducer = opsToJson(ops);
    failure.originalOps = ops.length;
  } finally {
    await target.dispose?.();
  }
}
