/**
 * node:test reporter for the in-guest KVM suite (node --test-reporter=<this, bundled>).
 *
 * Prints one line per test and, when the run ends, the machine-readable result line that
 * scripts/rig/run-kvm-tests.sh parses:
 *   KVM-RIG-RESULT passed=<n> failed=<n> skipped=<n> todo=<n>
 *
 * Counting (node:test reporter events, https://nodejs.org/docs/latest-v20.x/api/test.html#event-testpass):
 * tests are counted once each; a *suite* counts as a failure only when it failed on its own (a hook
 * or its body threw), not when it failed because one of its tests did, which is already counted.
 */

interface TestEventData {
  name: string;
  nesting: number;
  skip?: string | boolean;
  todo?: string | boolean;
  details?: { duration_ms?: number; type?: 'suite' | 'test'; error?: { failureType?: string; cause?: unknown; message?: string; stack?: string } };
}

type TestEvent = { type: string; data: TestEventData };

export function resultLine(c: { passed: number; failed: number; skipped: number; todo: number }): string {
  return `KVM-RIG-RESULT passed=${c.passed} failed=${c.failed} skipped=${c.skipped} todo=${c.todo}`;
}

function describeError(err: unknown): string {
  // node:test wraps the thrown value: { failureType, cause }.
  const cause = (err as { cause?: unknown } | undefined)?.cause ?? err;
  if (cause instanceof Error) {
    // The message and the first frames outside node's own test runner are what a reader needs.
    const lines = (cause.stack ?? `${cause.name}: ${cause.message}`).split('\n');
    const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
    const head = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
    const frames = lines.slice(head.length).filter((l) => !/\(node:|at node:|vitest-shim\.ts/.test(l)).slice(0, 5);
    return [...head, ...frames].join('\n');
  }
  return String(cause);
}

export default async function* kvmRigReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  const path: string[] = [];
  const title = (d: TestEventData) => {
    path[d.nesting] = d.name;
    path.length = d.nesting + 1;
    return path.join(' > ');
  };
  const summary = () =>
    `in-guest totals (passed/failed/skipped/todo): ${counts.passed}/${counts.failed}/${counts.skipped}/${counts.todo}\n${resultLine(counts)}\n`;
  let finished = false;
  let filesDone = 0;
  // In a plain `node file.mjs` run, node:test ends (and this stream with it) only when the event
  // loop empties, so a handle a test leaked (a worker, an interval, a socket) would hold the
  // summary back until the rig's hard timeout. The shim publishes how many file suites it
  // registered; once they are all done, give node 10 s (KVM_RIG_EXIT_GRACE_MS) to exit by itself, then report and exit.
  // (Not --test-force-exit: in Node 20 it exits before a reporter's last lines are written.)
  const graceMs = Number(process.env.KVM_RIG_EXIT_GRACE_MS) >= 0 && process.env.KVM_RIG_EXIT_GRACE_MS ? Number(process.env.KVM_RIG_EXIT_GRACE_MS) : 10_000;
  const onFileDone = () => {
    const expected = (globalThis as { __kvmRigFileCount?: number }).__kvmRigFileCount;
    if (++filesDone !== expected) return;
    setTimeout(() => {
      if (finished) return;
      finished = true;
      process.stdout.write(`kvm-rig: node still running ${graceMs} ms after the last test (a leaked handle?); exiting\n${summary()}`);
      process.exit(counts.failed > 0 ? 1 : 0);
    }, graceMs).unref();
  };
  for await (const event of source) {
    const d = event.data;
    if ((event.type === 'test:pass' || event.type === 'test:fail') && d.nesting === 0) onFileDone();
    switch (event.type) {
      case 'test:start':
        title(d);
        break;
      case 'test:pass': {
        const name = title(d);
        if (d.details?.type === 'suite') break;
        if (d.todo !== undefined && d.todo !== false) {
          counts.todo++;
          yield `  todo ${name}\n`;
        } else if (d.skip !== undefined && d.skip !== false) {
          counts.skipped++;
          yield `  skip ${name}${typeof d.skip === 'string' ? ` (${d.skip})` : ''}\n`;
        } else {
          counts.passed++;
          yield `  ok   ${name} (${Math.round(d.details?.duration_ms ?? 0)} ms)\n`;
        }
        break;
      }
      case 'test:fail': {
        const name = title(d);
        const failure = d.details?.error?.failureType;
        if (d.details?.type === 'suite' && (failure === 'subtestsFailed' || failure === 'cancelledByParent')) break;
        if (d.todo !== undefined && d.todo !== false) {
          counts.todo++;
          yield `  todo ${name} (failing)\n`;
          break;
        }
        counts.failed++;
        const why = describeError(d.details?.error).replace(/^/gm, '       ');
        yield `  FAIL ${name}${d.details?.type === 'suite' ? ` [suite: ${failure}]` : ''}\n${why}\n`;
        break;
      }
      default:
        break;
    }
  }
  if (finished) return;
  finished = true;
  yield summary();
}
