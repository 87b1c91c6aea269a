/**
 * The fuzz harness: runs targets case by case with deterministic seeds, classifies what each case
 * throws, shrinks a failing case to a minimal list of operations and reports.
 *
 * A target turns a case's PRNG into a list of operations (plain data, printable) and executes the
 * list against the code under test. A case passes when execute() returns; it also passes when it
 * throws an error the target documents (isExpected: e.g. a parser's own error class for a corrupt
 * image). Everything else is a failure:
 *   - any other exception (a RangeError from a typed array or DataView means an unchecked index);
 *   - a FuzzViolation: an invariant the target checks (wrong SBI error code, a value wider than
 *     the access, a write outside the RAM window...);
 *   - a case slower than its time limit (a hang that the budget did not bound).
 * Failures carry the case seed (replay with --target and --case) and the shrunk operation list.
 */
import { caseSeed, Rng } from './rng.js';

/** An invariant of the code under test does not hold. */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzViolation';
  }
}

class HangError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HangError';
  }
}

export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new FuzzViolation(typeof message === 'function' ? message() : message);
}

export interface FuzzTarget<Op = unknown> {
  readonly name: string;
  readonly description: string;
  /** The operations of one case, drawn from its PRNG. */
  generate(rng: Rng): Op[];
  /** Runs one case. Must bound its own work (instruction budgets, stop timers). */
  execute(ops: readonly Op[]): void | Promise<void>;
  /** Documented errors a case may end with (not failures). */
  isExpected?(error: unknown): boolean;
  /** A case taking longer than this is reported as a hang (default 5000 ms). */
  readonly caseTimeoutMs?: number;
  /** Releases what the target holds (temp files, VMs) after the run. */
  dispose?(): void | Promise<void>;
}

export interface FuzzFailure {
  target: string;
  caseSeed: number;
  kind: 'exception' | 'violation' | 'hang';
  message: string;
  stack?: string;
  /** The shrunk operation list that still fails (JSON, bigints as "0x..n"). */
  reproducer: string;
  originalOps: number;
}

export interface TargetReport {
  target: string;
  cases: number;
  /** Cases that ended with a documented error. */
  expectedErrors: number;
  failures: FuzzFailure[];
  elapsedMs: number;
  casesPerSecond: number;
}

export interface RunLimits {
  seed: number;
  /** Stop after this many cases ... */
  maxCases?: number;
  /** ... or after this many milliseconds, whichever comes first. */
  timeMs?: number;
  /** Index of the first case (a run resumed after a hang starts past the hung case). */
  firstCase?: number;
  /** Stop a target at its first failure (default true). */
  stopOnFailure?: boolean;
  /** Called before each case (the CLI's watchdog records the seed). */
  onCase?: (caseSeed: number, index: number) => void;
}

export function opsToJson(ops: readonly unknown[]): string {
  return JSON.stringify(ops, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `0x${v.toString(16)}n`;
    if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
    return v;
  });
}

type Outcome = { ok: true; expected: boolean } | { ok: false; kind: FuzzFailure['kind']; error: unknown };

async function runOnce<Op>(target: FuzzTarget<Op>, ops: readonly Op[]): Promise<Outcome> {
  const limit = target.caseTimeoutMs ?? 5000;
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = target.execute(ops);
    if (r instanceof Promise) {
      // A promise that never settles is a hang too: give up on it after twice the limit.
      const hung = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new HangError(`case did not finish within ${2 * limit} ms`)), 2 * limit);
      });
      await Promise.race([r, hung]);
    }
  } catch (e) {
    if (e instanceof HangError) return { ok: false, kind: 'hang', error: e };
    if (!(e instanceof FuzzViolation) && target.isExpected?.(e)) return { ok: true, expected: true };
    return { ok: false, kind: e instanceof FuzzViolation ? 'violation' : 'exception', error: e };
  } finally {
    if (timer) clearTimeout(timer);
  }
  const took = performance.now() - start;
  if (took > limit) return { ok: false, kind: 'hang', error: new Error(`case took ${took.toFixed(0)} ms, over its ${limit} ms limit`) };
  return { ok: true, expected: false };
}

/** Failure signature used while shrinking: the same kind and error class must remain. */
const signature = (o: Outcome): string => (o.ok ? 'ok' : `${o.kind}:${o.error instanceof Error ? o.error.name : typeof o.error}`);

/**
 * Delta-debugging lite: removes ever smaller chunks of operations while the case still fails the
 * same way. Bounded by `maxRuns` executions.
 */
export async function shrink<Op>(target: FuzzTarget<Op>, ops: readonly Op[], first: Outcome, maxRuns = 300): Promise<{ ops: Op[]; outcome: Outcome }> {
  const want = signature(first);
  let best = [...ops];
  let bestOutcome = first;
  let runs = 0;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && runs < maxRuns; chunk = chunk >> 1) {
    for (let i = 0; i + chunk <= best.length && runs < maxRuns;) {
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
      runs++;
      const o = await runOnce(target, candidate);
      if (signature(o) === want) {
        best = candidate;
        bestOutcome = o;
      } else {
        i += chunk;
      }
    }
    if (chunk === 1) break;
  }
  return { ops: best, outcome: bestOutcome };
}

function describe(e: unknown): { message: string; stack?: string } {
  if (e instanceof Error) return { message: `${e.name}: ${e.message}`, stack: e.stack };
  return { message: String(e) };
}

/** Runs one case by its seed (replay) and returns the failure, if any, shrunk. */
export async function runCase<Op>(target: FuzzTarget<Op>, seed: number): Promise<{ failure?: FuzzFailure; expected: boolean }> {
  const ops = target.generate(new Rng(seed));
  const outcome = await runOnce(target, ops);
  if (outcome.ok) return { expected: outcome.expected };
  const small = await shrink(target, ops, outcome);
  const final = small.outcome.ok ? outcome : small.outcome;
  const { message, stack } = describe(final.ok ? undefined : final.error);
  return {
    expected: false,
    failure: {
      target: target.name,
      caseSeed: seed,
      kind: final.ok ? 'exception' : final.kind,
      message,
      stack,
      reproducer: opsToJson(small.ops),
      originalOps: ops.length,
    },
  };
}

/** Runs cases of one target until the case or time limit. */
export async function runTarget<Op>(target: FuzzTarget<Op>, limits: RunLimits): Promise<TargetReport> {
  const start = performance.now();
  const deadline = limits.timeMs === undefined ? Infinity : start + limits.timeMs;
  const maxCases = limits.maxCases ?? Infinity;
  const stopOnFailure = limits.stopOnFailure ?? true;
  const failures: FuzzFailure[] = [];
  const first = limits.firstCase ?? 0;
  let cases = 0;
  let expectedErrors = 0;
  while (cases < maxCases && performance.now() < deadline) {
    const seed = caseSeed(limits.seed, target.name, first + cases);
    limits.onCase?.(seed, first + cases);
    const r = await runCase(target, seed);
    cases++;
    if (r.expected) expectedErrors++;
    if (r.failure) {
      failures.push(r.failure);
      if (stopOnFailure) break;
    }
  }
  const elapsedMs = performance.now() - start;
  return { target: target.name, cases, expectedErrors, failures, elapsedMs, casesPerSecond: cases / Math.max(elapsedMs / 1000, 1e-9) };
}

/** A failure as the CLI prints it: what, the seed, how to replay, the minimal operations. */
export function formatFailure(f: FuzzFailure): string {
  return [
    `FAIL ${f.target} (${f.kind}) case seed ${f.caseSeed}: ${f.message}`,
    `  replay: npm run fuzz -- --target ${f.target} --case ${f.caseSeed}`,
    `  minimal reproducer (${JSON.parse(f.reproducer).length} of ${f.originalOps} operations): ${f.reproducer}`,
    ...(f.stack ? [`  stack: ${f.stack.split('\n').slice(1, 6).map((l) => l.trim()).join(' | ')}`] : []),
  ].join('\n');
}
