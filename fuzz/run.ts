/**
 * `npm run fuzz`: every target for a bounded time, deterministic from --seed.
 *
 *   --seconds N    total budget, split evenly between the selected targets (default 60)
 *   --seed S       run seed (u32, default 1); case seeds derive from it and the target name
 *   --target NAME  only this target (repeatable)
 *   --case SEED    replay one case of --target by its case seed (printed by a failure)
 *   --keep-going   do not stop a target at its first failure
 *
 * Exit status 1 when any case failed. Each failure prints its case seed, the replay command and the
 * shrunk operation list. Targets run one after another, each on a worker thread (fuzz/worker.ts)
 * watched from here: a case that makes no progress for HANG_MS (a hang no budget bounded, even a
 * synchronous infinite loop) is reported with its seed and the worker is terminated.
 */
import { formatFailure, opsToJson, runCase, type TargetReport } from './harness.js';
import { Rng } from './rng.js';
import { TARGETS } from './targets/index.js';
import { runTargetInWorker } from './worker-runner.js';

/** No new case for this long means the current one hangs (every case is bounded far below). */
const HANG_MS = 10_000;
/** Failures printed per target (--keep-going can collect many). */
const MAX_PRINTED = 5;

interface Args { seconds: number; seed: number; targets: string[]; caseSeed?: number; keepGoing: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 60, seed: 1, targets: [], keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (v: string, what: string): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a non-negative number, got ${v}`);
      return n;
    };
    switch (a) {
      case '--seconds': args.seconds = num(value(), '--seconds'); break;
      case '--seed': args.seed = num(value(), '--seed') >>> 0; break;
      case '--target': args.targets.push(value()); break;
      case '--case': args.caseSeed = num(value(), '--case') >>> 0; break;
      case '--keep-going': args.keepGoing = true; break;
      case '--help': case '-h':
        console.log('usage: npm run fuzz -- [--seconds N] [--seed S] [--target NAME]... [--case SEED] [--keep-going]');
        console.log(`targets: ${TARGETS.map((t) => t.name).join(', ')}`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  for (const t of args.targets) {
    if (!TARGETS.some((f) => f.name === t)) throw new Error(`unknown target ${t}; targets: ${TARGETS.map((f) => f.name).join(', ')}`);
  }
  if (args.caseSeed !== undefined && args.targets.length !== 1) throw new Error('--case needs exactly one --target');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = TARGETS.filter((t) => args.targets.length === 0 || args.targets.includes(t.name));

  if (args.caseSeed !== undefined) {
    const target = await selected[0]!.create();
    // Printed first: a case that hangs never gets to print anything else.
    console.log(`${target.name} case ${args.caseSeed}: ${opsToJson(target.generate(new Rng(args.caseSeed)))}`);
    const r = await runCase(target, args.caseSeed);
    await target.dispose?.();
    if (r.failure) {
      console.log(formatFailure(r.failure));
      if (r.failure.stack) console.log(r.failure.stack);
      process.exitCode = 1;
    } else {
      console.log(`${target.name} case ${args.caseSeed}: pass${r.expected ? ' (documented error)' : ''}`);
    }
    return;
  }

  const perTargetMs = (args.seconds * 1000) / selected.length;
  console.log(`fuzz: seed ${args.seed}, ${args.seconds} s over ${selected.length} target(s)`);
  const reports: TargetReport[] = [];
  for (const factory of selected) {
    const report = await runTargetInWorker(factory.name, { seed: args.seed, timeMs: perTargetMs, keepGoing: args.keepGoing, hangMs: HANG_MS });
    reports.push(report);
    const status = report.failures.length ? `${report.failures.length} FAILED` : 'ok';
    console.log(`  ${report.target.padEnd(14)} ${String(report.cases).padStart(8)} cases  ${report.casesPerSecond.toFixed(0).padStart(7)} cases/s  ${String(report.expectedErrors).padStart(7)} documented errors  ${status}`);
    for (const f of report.failures.slice(0, MAX_PRINTED)) console.log(formatFailure(f));
    if (report.failures.length > MAX_PRINTED) console.log(`  ... and ${report.failures.length - MAX_PRINTED} more failure(s) of ${report.target}`);
  }
  const total = reports.reduce((n, r) => n + r.cases, 0);
  const failed = reports.reduce((n, r) => n + r.failures.length, 0);
  console.log(`fuzz: ${total} cases, ${failed} failure(s)`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 2;
});
