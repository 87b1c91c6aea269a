/**
 * Runs one fuzz target on a worker thread for fuzz/run.ts. Before each case it stores the case
 * seed and a case counter in shared memory, so the main thread's watchdog can name the case that
 * stopped making progress (a synchronous infinite loop cannot be observed any other way) and
 * terminate this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCase, runTarget, type TargetReport } from './harness.js';
import { TARGETS } from './targets/index.js';

export interface WorkerInput {
  target: string;
  seed: number;
  timeMs?: number;
  maxCases?: number;
  firstCase?: number;
  keepGoing: boolean;
  /** Instead of a run: exactly these cases, by case seed (replays). */
  caseSeeds?: number[];
  /** Int32Array over a SharedArrayBuffer: [0] cases started, [1] seed of the current case. */
  progress: SharedArrayBuffer;
}

const input = workerData as WorkerInput;
const progress = new Int32Array(input.progress);
const factory = TARGETS.find((t) => t.name === input.target);
if (!factory) throw new Error(`unknown target ${input.target}`);
const target = await factory.create();
const report = input.caseSeeds ? await replay(input.caseSeeds) : await runTarget(target, {
  seed: input.seed,
  timeMs: input.timeMs,
  maxCases: input.maxCases,
  firstCase: input.firstCase,
  stopOnFailure: !input.keepGoing,
  onCase: (seed) => {
    Atomics.store(progress, 1, seed | 0);
    Atomics.add(progress, 0, 1);
  },
});
await target.dispose?.();
parentPort!.postMessage(report);

async function replay(seeds: number[]): Promise<TargetReport> {
  const start = performance.now();
  const report: TargetReport = { target: input.target, cases: 0, expectedErrors: 0, failures: [], elapsedMs: 0, casesPerSecond: 0 };
  for (const seed of seeds) {
    Atomics.store(progress, 1, seed | 0);
    Atomics.add(progress, 0, 1);
    const r = await runCase(target, seed);
    report.cases++;
    if (r.expected) report.expectedErrors++;
    if (r.failure) report.failures.push(r.failure);
  }
  report.elapsedMs = performance.now() - start;
  report.casesPerSecond = report.cases / Math.max(report.elapsedMs / 1000, 1e-9);
  return report;
}
