/**
 * The part of vitest's API that the KVM test files use, on top of node:test and node:assert.
 *
 * Why: inside the nested rig (QEMU TCG running a riscv64 kernel) node takes ~3 s just to start and
 * vitest itself would take minutes, so scripts/rig/bundle-tests.mjs bundles every KVM test file into
 * one ES module with `vitest` aliased to this file, and the guest runs it as ONE node process.
 *
 * How: test files only *declare* suites while they are imported (vitest's collection phase). The
 * bundle's entry calls `__beginFile(path)` before each file's body and `__runCollected()` after all
 * of them; only then is the collected tree handed to node:test, so `.only` can be resolved per file
 * the way vitest does (an `.only` anywhere in a file skips that file's other tests) without
 * node's --test-only flag. Results are counted by test/rig/reporter.ts, a node:test reporter.
 *
 * Semantics follow https://vitest.dev/api/ (test, describe, hooks) and https://vitest.dev/api/expect.
 */
import { after as ntAfter, afterEach as ntAfterEach, before as ntBefore, beforeEach as ntBeforeEach, describe as ntDescribe, it as ntIt } from 'node:test';
import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';

/* eslint-disable @typescript-eslint/no-explicit-any -- expect() takes and compares anything */
type AnyFn = (...args: any[]) => unknown;

// ---------------------------------------------------------------------------------------------
// The collected tree

type Mode = 'run' | 'skip' | 'only' | 'todo';

/** The context object a test function receives (vitest's TestContext, the parts we model). */
export interface TestContext {
  /** Marks the running test skipped and stops it. */
  skip(note?: string): never;
  expect: typeof expect;
  task: { name: string };
  signal: AbortSignal;
}

interface TestNode {
  kind: 'test';
  name: string;
  fn?: (ctx: TestContext) => unknown;
  mode: Mode;
  timeout?: number;
}

type HookKind = 'beforeAll' | 'afterAll' | 'beforeEach' | 'afterEach';

interface SuiteNode {
  kind: 'suite';
  name: string;
  mode: Mode;
  children: Array<TestNode | SuiteNode>;
  hooks: Array<{ kind: HookKind; fn: AnyFn; timeout?: number }>;
}

/** Default per-test and per-hook time limits. Under TCG everything is ~50x slower than vitest's
 * defaults assume, and the rig's own hard timeout bounds the whole run. */
const DEFAULT_TIMEOUT_MS = Number(process.env.KVM_RIG_TEST_TIMEOUT_MS) > 0 ? Number(process.env.KVM_RIG_TEST_TIMEOUT_MS) : 300_000;

const files: SuiteNode[] = [];
let stack: SuiteNode[] = [];
let started = false;

function newSuite(name: string, mode: Mode): SuiteNode {
  return { kind: 'suite', name, mode, children: [], hooks: [] };
}

/** Called by the bundle before each test file's body runs: later declarations belong to `path`. */
export function __beginFile(path: string): void {
  const root = newSuite(path, 'run');
  files.push(root);
  stack = [root];
}

function current(): SuiteNode {
  if (started) throw new Error('vitest shim: tests must be declared while the test file is imported, not later');
  if (stack.length === 0) __beginFile('(tests)');
  return stack[stack.length - 1]!;
}

function parseTestArgs(a: unknown, b: unknown): { fn?: AnyFn; timeout?: number } {
  // vitest accepts test(name, fn, timeout|options) and test(name, options, fn).
  if (typeof a === 'function') {
    const timeout = typeof b === 'number' ? b : (b as { timeout?: number } | undefined)?.timeout;
    return { fn: a as AnyFn, timeout };
  }
  if (a && typeof a === 'object') {
    const opts = a as { timeout?: number; skip?: boolean; only?: boolean };
    return { fn: typeof b === 'function' ? (b as AnyFn) : undefined, timeout: opts.timeout };
  }
  return {};
}

function optionMode(mode: Mode, a: unknown): Mode {
  if (a && typeof a === 'object' && typeof a !== 'function') {
    const opts = a as { skip?: boolean; only?: boolean; todo?: boolean };
    if (opts.skip) return 'skip';
    if (opts.todo) return 'todo';
    if (opts.only && mode === 'run') return 'only';
  }
  return mode;
}

function declareTest(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  const { fn, timeout } = parseTestArgs(a, b);
  const m = optionMode(mode, a);
  current().children.push({ kind: 'test', name: String(name), fn: fn as TestNode['fn'], mode: fn ? m : 'todo', timeout });
}

function declareSuite(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  const { fn } = parseTestArgs(a, b);
  const suite = newSuite(String(name), optionMode(mode, a));
  current().children.push(suite);
  if (!fn) {
    suite.mode = 'todo';
    return;
  }
  stack.push(suite);
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      // Declarations after an await would land in whatever suite is current then.
      suite.children.push(failingTest('(collection)', new Error('vitest shim: async describe callbacks are not supported; declare tests synchronously')));
    }
  } catch (err) {
    // vitest reports a describe callback that throws as a failed suite.
    suite.children.push(failingTest('(collection)', err));
  } finally {
    stack.pop();
  }
}

function failingTest(name: string, err: unknown): TestNode {
  return { kind: 'test', name, mode: 'run', fn: () => { throw err; } };
}

// ---------------------------------------------------------------------------------------------
// test / it / describe with their modifiers

/** `%s`-style and `$name`-style title formatting of test.each (vitest "test.each"). */
function formatTitle(template: string, args: unknown[], index: number): string {
  const show = (v: unknown) => (typeof v === 'string' ? v : inspect(v, { depth: 2, breakLength: Infinity }));
  let i = 0;
  let out = template.replace(/%([sdifjoO#%])/g, (whole, k: string) => {
    if (k === '%') return '%';
    if (k === '#') return String(index);
    if (i >= args.length) return whole;
    const v = args[i++];
    switch (k) {
      case 'd': case 'i': return String(k === 'i' ? Math.trunc(Number(v)) : Number(v));
      case 'f': return String(Number(v));
      case 'j': return JSON.stringify(v);
      default: return show(v);
    }
  });
  const obj = args.length === 1 && args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) ? (args[0] as Record<string, unknown>) : undefined;
  if (obj) {
    out = out.replace(/\$([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)/g, (whole, path: string) => {
      let v: unknown = obj;
      for (const key of path.split('.')) {
        if (v === null || v === undefined) return whole;
        v = (v as Record<string, unknown>)[key];
      }
      return show(v);
    });
  }
  return out.replace(/\$#/g, String(index));
}

/** The rows of test.each: an array (rows that are arrays are spread into arguments) or a tagged
 * template table whose first line names the columns. */
function eachRows(table: unknown, values: unknown[]): unknown[][] {
  if (Array.isArray(table) && 'raw' in (table as object)) {
    const header = (table as unknown as TemplateStringsArray).join('').split('|').map((h) => h.trim()).filter(Boolean);
    if (header.length === 0) throw new Error('test.each: table has no column names');
    if (values.length % header.length !== 0) throw new Error(`test.each: ${values.length} values do not fill ${header.length} columns`);
    const rows: unknown[][] = [];
    for (let r = 0; r < values.length; r += header.length) {
      const row: Record<string, unknown> = {};
      header.forEach((h, c) => (row[h] = values[r + c]));
      rows.push([row]);
    }
    return rows;
  }
  if (!Array.isArray(table)) throw new TypeError('test.each: expected an array or a template table');
  return table.map((row) => (Array.isArray(row) ? row : [row]));
}

type Declare = (mode: Mode, name: string, a?: unknown, b?: unknown) => void;

export interface TestApi {
  (name: string, fn?: AnyFn | object, timeout?: number | object | AnyFn): void;
  skip: TestApi;
  only: TestApi;
  todo: (name: string) => void;
  skipIf(cond: unknown): TestApi;
  runIf(cond: unknown): TestApi;
  each(table: readonly unknown[] | TemplateStringsArray, ...values: unknown[]): (name: string, fn: AnyFn, timeout?: number | object) => void;
}

function makeApi(declare: Declare, mode: Mode): TestApi {
  const api = ((name: string, a?: unknown, b?: unknown) => declare(mode, name, a, b)) as TestApi;
  Object.defineProperties(api, {
    skip: { get: () => makeApi(declare, 'skip') },
    only: { get: () => makeApi(declare, mode === 'skip' ? 'skip' : 'only') },
  });
  api.todo = (name: string) => declare('todo', name);
  api.skipIf = (cond: unknown) => makeApi(declare, cond ? 'skip' : mode);
  api.runIf = (cond: unknown) => makeApi(declare, cond ? mode : 'skip');
  api.each = (table: readonly unknown[] | TemplateStringsArray, ...values: unknown[]) => (name: string, fn: AnyFn, timeout?: number | object) => {
    eachRows(table, values).forEach((args, index) => {
      declare(mode, formatTitle(name, args, index), () => fn(...args), timeout);
    });
  };
  return api;
}

export const test: TestApi = makeApi(declareTest, 'run');
export const it: TestApi = test;
export const describe: TestApi = makeApi(declareSuite, 'run');
export const suite: TestApi = describe;

function declareHook(kind: HookKind, fn: AnyFn, timeout?: number): void {
  if (typeof fn !== 'function') throw new TypeError(`${kind}: expected a function`);
  current().hooks.push({ kind, fn, timeout });
}
export const beforeAll = (fn: AnyFn, timeout?: number): void => declareHook('beforeAll', fn, timeout);
export const afterAll = (fn: AnyFn, timeout?: number): void => declareHook('afterAll', fn, timeout);
export const beforeEach = (fn: AnyFn, timeout?: number): void => declareHook('beforeEach', fn, timeout);
export const afterEach = (fn: AnyFn, timeout?: number): void => declareHook('afterEach', fn, timeout);

// ---------------------------------------------------------------------------------------------
// Handing the tree to node:test

class SkipSignal extends Error {}

let assertionCount = 0;
let expectedAssertions: number | undefined;
let requireAssertions = false;

function hasOnly(node: TestNode | SuiteNode): boolean {
  if (node.mode === 'only') return true;
  return node.kind === 'suite' && node.children.some(hasOnly);
}

/** vitest's .only rule within one file: on a level where some node has an `.only` (itself or
 * below), the nodes without one are skipped; inside an `.only` suite everything runs unless that
 * suite holds `.only`s of its own, which the same rule then applies to. */
function selected(node: TestNode | SuiteNode, levelHasOnly: boolean): boolean {
  return !levelHasOnly || hasOnly(node);
}

type NtTestContext = { name: string; skip(msg?: string): void; signal?: AbortSignal };

function makeContext(t: NtTestContext, name: string): TestContext {
  return {
    skip(note?: string): never {
      t.skip(note);
      throw new SkipSignal(note ?? 'skipped');
    },
    expect,
    task: { name },
    signal: t.signal ?? new AbortController().signal,
  };
}

function registerChildren(parent: SuiteNode): void {
  const anyOnly = parent.children.some(hasOnly);
  // Hooks that return a function get it called as the matching teardown (vitest "beforeAll").
  const allTeardowns: AnyFn[] = [];
  const eachTeardowns = new Map<unknown, AnyFn[]>();
  for (const hook of parent.hooks) {
    const opts = { timeout: hook.timeout ?? DEFAULT_TIMEOUT_MS };
    switch (hook.kind) {
      case 'beforeAll':
        ntBefore(async () => {
          const r = await hook.fn();
          if (typeof r === 'function') allTeardowns.push(r as AnyFn);
        }, opts);
        break;
      case 'afterAll':
        ntAfter(async () => { await hook.fn(); }, opts);
        break;
      case 'beforeEach':
        ntBeforeEach(async (c: unknown) => {
          const t = c as NtTestContext;
          const r = await hook.fn(makeContext(t, t.name));
          if (typeof r === 'function') {
            const list = eachTeardowns.get(t) ?? [];
            list.push(r as AnyFn);
            eachTeardowns.set(t, list);
          }
        }, opts);
        break;
      case 'afterEach':
        ntAfterEach(async (c: unknown) => { await hook.fn(makeContext(c as NtTestContext, (c as NtTestContext).name)); }, opts);
        break;
    }
  }
  if (parent.hooks.some((h) => h.kind === 'beforeEach')) {
    ntAfterEach(async (c: unknown) => {
      const list = eachTeardowns.get(c) ?? [];
      eachTeardowns.delete(c);
      for (const fn of list.reverse()) await fn();
    });
  }
  if (parent.hooks.some((h) => h.kind === 'beforeAll')) {
    ntAfter(async () => {
      for (const fn of allTeardowns.reverse()) await fn();
    });
  }

  for (const child of parent.children) {
    const run = selected(child, anyOnly) && child.mode !== 'skip' && child.mode !== 'todo';
    if (child.kind === 'suite') {
      if (!run) {
        // Not node's { skip: true }: that would hide the suite's tests from the counts.
        ntDescribe(child.name, () => registerSkipped(child, child.mode === 'todo'));
      } else {
        ntDescribe(child.name, () => registerChildren(child));
      }
      continue;
    }
    if (child.mode === 'todo') {
      ntIt(child.name, { todo: true });
      continue;
    }
    if (!run) {
      ntIt(child.name, { skip: true }, () => {});
      continue;
    }
    const fn = child.fn!;
    ntIt(child.name, { timeout: child.timeout ?? DEFAULT_TIMEOUT_MS }, async (t: NtTestContext) => {
      assertionCount = 0;
      expectedAssertions = undefined;
      requireAssertions = false;
      try {
        await fn(makeContext(t, child.name));
      } catch (err) {
        if (err instanceof SkipSignal) return;
        throw err;
      }
      if (expectedAssertions !== undefined && assertionCount !== expectedAssertions) {
        throw new AssertionError({ message: `expected ${expectedAssertions} assertions to be called but received ${assertionCount}` });
      }
      if (requireAssertions && assertionCount === 0) {
        throw new AssertionError({ message: 'expected at least one assertion to be called but received none' });
      }
    });
  }
}

/** A skipped suite still lists its tests, so the counts say how much did not run. */
function registerSkipped(suiteNode: SuiteNode, todo: boolean): void {
  for (const child of suiteNode.children) {
    if (child.kind === 'suite') ntDescribe(child.name, () => registerSkipped(child, todo || child.mode === 'todo'));
    else if (todo || child.mode === 'todo') ntIt(child.name, { todo: true });
    else ntIt(child.name, { skip: true }, () => {});
  }
}

/** Called once by the bundle after every test file has been imported. */
export function __runCollected(): void {
  if (started) return;
  started = true;
  // test/rig/reporter.ts waits for this many top-level suites before arming its exit watchdog.
  (globalThis as { __kvmRigFileCount?: number }).__kvmRigFileCount = files.length;
  for (const file of files) {
    ntDescribe(file.name, () => registerChildren(file));
  }
}

// ---------------------------------------------------------------------------------------------
// Equality (vitest "toEqual" / "toStrictEqual")

interface AsymmetricMatcher {
  asymmetricMatch(other: unknown): boolean;
  toString(): string;
}

function isAsymmetric(v: unknown): v is AsymmetricMatcher {
  return !!v && typeof v === 'object' && typeof (v as AsymmetricMatcher).asymmetricMatch === 'function';
}

function ownKeys(o: object, strict: boolean): Array<string | symbol> {
  const keys: Array<string | symbol> = Object.keys(o);
  for (const s of Object.getOwnPropertySymbols(o)) {
    if (Object.prototype.propertyIsEnumerable.call(o, s)) keys.push(s);
  }
  if (strict) return keys;
  // toEqual ignores properties whose value is undefined.
  return keys.filter((k) => (o as Record<string | symbol, unknown>)[k] !== undefined);
}

export function equals(a: unknown, b: unknown, strict = false, seen: Array<[unknown, unknown]> = []): boolean {
  if (isAsymmetric(b)) return b.asymmetricMatch(a);
  if (isAsymmetric(a)) return a.asymmetricMatch(b);
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true;
  seen = [...seen, [a, b]];

  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  }
  if (a instanceof RegExp || b instanceof RegExp) {
    return a instanceof RegExp && b instanceof RegExp && a.source === b.source && a.flags === b.flags;
  }
  if (a instanceof Error || b instanceof Error) {
    if (!(a instanceof Error && b instanceof Error) || a.name !== b.name || a.message !== b.message) return false;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || a instanceof ArrayBuffer || b instanceof ArrayBuffer) {
    const bytes = (v: object): Uint8Array | undefined =>
      v instanceof ArrayBuffer ? new Uint8Array(v) : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : undefined;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (!(a instanceof DataView) && !(a instanceof ArrayBuffer)) {
      // Element-wise, so Float64Array [NaN] equals [NaN] and -0/+0 differ as in toEqual.
      const x = a as unknown as ArrayLike<unknown>;
      const y = b as unknown as ArrayLike<unknown>;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
      return true;
    }
    const x = bytes(a)!;
    const y = bytes(b)!;
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) {
      if (b.has(k)) {
        if (!equals(v, b.get(k), strict, seen)) return false;
      } else if (![...b].some(([k2, v2]) => equals(k, k2, strict, seen) && equals(v, v2, strict, seen))) {
        return false;
      }
    }
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) {
      if (!b.has(v) && ![...b].some((w) => equals(v, w, strict, seen))) return false;
    }
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (strict && (i in a) !== (i in b)) return false;
      if (!equals(a[i], b[i], strict, seen)) return false;
    }
    return true;
  }
  const ka = ownKeys(a, strict);
  const kb = ownKeys(b, strict);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) && !(strict ? false : (b as Record<string | symbol, unknown>)[k] !== undefined)) return false;
    if (!equals((a as Record<string | symbol, unknown>)[k], (b as Record<string | symbol, unknown>)[k], strict, seen)) return false;
  }
  return true;
}

/** toMatchObject: every property of `expected` is present in `actual` and matches recursively;
 * arrays must match element for element. */
function matchesObject(actual: unknown, expected: unknown, seen: unknown[] = []): boolean {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual);
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) {
    return equals(actual, expected);
  }
  if (seen.includes(expected)) return true;
  seen = [...seen, expected];
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesObject(actual[i], e, seen));
  }
  if (expected instanceof Date || expected instanceof RegExp || expected instanceof Map || expected instanceof Set || ArrayBuffer.isView(expected)) {
    return equals(actual, expected);
  }
  for (const k of ownKeys(expected, true)) {
    if (!(k in (actual as object))) return false;
    if (!matchesObject((actual as Record<string | symbol, unknown>)[k], (expected as Record<string | symbol, unknown>)[k], seen)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// expect

function show(v: unknown): string {
  if (isAsymmetric(v)) return v.toString();
  if (v instanceof Error) {
    // The message and the fields tests match on (code, errno...), not the stack.
    const fields = Object.entries(v).filter(([k]) => k !== 'stack' && k !== 'message');
    return `${v.name}: ${v.message}${fields.length ? ` ${inspect(Object.fromEntries(fields), { depth: 2, breakLength: Infinity })}` : ''}`;
  }
  return inspect(v, { depth: 4, breakLength: Infinity, maxArrayLength: 64, maxStringLength: 500 });
}

/** Where two values first differ, e.g. "[8]: 'a' vs 'b'", to make a long toEqual failure readable
 * on a serial console. */
function firstDifference(a: unknown, b: unknown, strict: boolean, path = '', depth = 0): string | undefined {
  if (equals(a, b, strict)) return undefined;
  const where = path || '(top level)';
  if (depth > 8 || isAsymmetric(b) || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${where}: ${show(a)} vs ${show(b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], strict, `${path}[${i}]`, depth + 1);
      if (d) return d;
    }
    return `${where}: length ${a.length} vs ${b.length}`;
  }
  if (Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && !(a instanceof Map) && !(a instanceof Set) && !ArrayBuffer.isView(a)) {
    const keys = new Set([...ownKeys(a, strict), ...ownKeys(b, strict)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string | symbol, unknown>)[k], (b as Record<string | symbol, unknown>)[k], strict, `${path}.${String(k)}`, depth + 1);
      if (d) return d;
    }
  }
  return `${where}: ${show(a)} vs ${show(b)}`;
}

function parsePath(path: string | ReadonlyArray<string | number>): Array<string | number> {
  if (Array.isArray(path)) return [...path];
  const out: Array<string | number> = [];
  for (const m of String(path).matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

type ThrowExpectation = string | RegExp | (new (...args: any[]) => unknown) | { message?: string } | AsymmetricMatcher | undefined;

export interface Matchers<R = void> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toStrictEqual(expected: unknown): R;
  toBeDefined(): R;
  toBeUndefined(): R;
  toBeNull(): R;
  toBeNaN(): R;
  toBeTruthy(): R;
  toBeFalsy(): R;
  toBeGreaterThan(n: number | bigint): R;
  toBeGreaterThanOrEqual(n: number | bigint): R;
  toBeLessThan(n: number | bigint): R;
  toBeLessThanOrEqual(n: number | bigint): R;
  toBeCloseTo(n: number, digits?: number): R;
  toContain(item: unknown): R;
  toContainEqual(item: unknown): R;
  toHaveLength(n: number): R;
  toMatch(expected: string | RegExp): R;
  toThrow(expected?: ThrowExpectation): R;
  toThrowError(expected?: ThrowExpectation): R;
  toBeInstanceOf(cls: new (...args: any[]) => unknown): R;
  toBeTypeOf(type: string): R;
  toMatchObject(expected: object): R;
  toHaveProperty(path: string | ReadonlyArray<string | number>, value?: unknown): R;
  toSatisfy(pred: (v: any) => boolean): R;
  toBeOneOf(options: readonly unknown[]): R;
  toHaveBeenCalled(): R;
  toHaveBeenCalledTimes(n: number): R;
  toHaveBeenCalledWith(...args: unknown[]): R;
  toHaveBeenLastCalledWith(...args: unknown[]): R;
}

export interface Assertion extends Matchers<void> {
  not: Matchers<void>;
  resolves: Matchers<Promise<void>> & { not: Matchers<Promise<void>> };
  rejects: Matchers<Promise<void>> & { not: Matchers<Promise<void>> };
}

type Verdict = { pass: boolean; message: (negated: boolean) => string; expected?: unknown };

function compare(actual: unknown, n: number | bigint, op: string, test: (a: any, b: any) => boolean): Verdict {
  const ok = (typeof actual === 'number' || typeof actual === 'bigint') && test(actual, n);
  return { pass: ok, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be ${op} ${show(n)}` };
}

function mockOf(actual: unknown): MockState {
  const state = typeof actual === 'function' ? (actual as { mock?: MockState }).mock : undefined;
  if (!state || !Array.isArray(state.calls)) {
    throw new TypeError(`${show(actual)} is not a mock function (vi.fn() / vi.spyOn())`);
  }
  return state;
}

function thrownMatches(err: unknown, expected: ThrowExpectation): boolean {
  if (expected === undefined) return true;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof expected === 'string') return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === 'function') return err instanceof expected;
  if (isAsymmetric(expected)) return expected.asymmetricMatch(err);
  if (typeof expected === 'object' && expected !== null) {
    return 'message' in expected ? message === expected.message : matchesObject(err, expected);
  }
  return false;
}

/** The verdict of each matcher for `actual`. `thrown` says `actual` is already the error thrown
 * (from .rejects), so toThrow checks it instead of calling it. */
function verdicts(actual: unknown, thrown: boolean): { [K in keyof Matchers]: (...args: any[]) => Verdict } {
  return {
    toBe: (e) => ({ pass: Object.is(actual, e), expected: e, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be ${show(e)}${!neg && equals(actual, e, true) ? ' (deeply equal, but not the same value: use toEqual)' : ''}` }),
    toEqual: (e) => ({ pass: equals(actual, e), expected: e, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to deeply equal ${show(e)}${neg ? '' : `\nfirst difference at ${firstDifference(actual, e, false)}`}` }),
    toStrictEqual: (e) => ({ pass: equals(actual, e, true), expected: e, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to strictly equal ${show(e)}${neg ? '' : `\nfirst difference at ${firstDifference(actual, e, true)}`}` }),
    toBeDefined: () => ({ pass: actual !== undefined, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be defined` }),
    toBeUndefined: () => ({ pass: actual === undefined, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be undefined` }),
    toBeNull: () => ({ pass: actual === null, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be null` }),
    toBeNaN: () => ({ pass: Number.isNaN(actual), message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be NaN` }),
    toBeTruthy: () => ({ pass: !!actual, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be truthy` }),
    toBeFalsy: () => ({ pass: !actual, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be falsy` }),
    toBeGreaterThan: (n) => compare(actual, n, 'greater than', (a, b) => a > b),
    toBeGreaterThanOrEqual: (n) => compare(actual, n, 'greater than or equal to', (a, b) => a >= b),
    toBeLessThan: (n) => compare(actual, n, 'less than', (a, b) => a < b),
    toBeLessThanOrEqual: (n) => compare(actual, n, 'less than or equal to', (a, b) => a <= b),
    toBeCloseTo: (n: number, digits = 2) => {
      const pass = typeof actual === 'number' && (actual === n || Math.abs(actual - n) < 10 ** -digits / 2);
      return { pass, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be close to ${n} (${digits} digits)` };
    },
    toContain: (item) => {
      let pass = false;
      if (typeof actual === 'string') pass = typeof item === 'string' && actual.includes(item);
      else if (actual !== null && actual !== undefined && typeof (actual as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const v of actual as Iterable<unknown>) if (v === item || Object.is(v, item)) { pass = true; break; }
      } else throw new TypeError(`toContain: ${show(actual)} is not a string or an iterable`);
      return { pass, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to contain ${show(item)}` };
    },
    toContainEqual: (item) => {
      const list = actual !== null && actual !== undefined && typeof (actual as Iterable<unknown>)[Symbol.iterator] === 'function' ? [...(actual as Iterable<unknown>)] : undefined;
      if (!list) throw new TypeError(`toContainEqual: ${show(actual)} is not iterable`);
      return { pass: list.some((v) => equals(v, item)), message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to contain an element equal to ${show(item)}` };
    },
    toHaveLength: (n) => {
      const len = actual !== null && actual !== undefined ? (actual as { length?: unknown }).length : undefined;
      if (typeof len !== 'number') throw new TypeError(`toHaveLength: ${show(actual)} has no length`);
      return { pass: len === n, expected: n, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to have length ${n} (it has ${len})` };
    },
    toMatch: (e) => {
      if (typeof actual !== 'string') throw new TypeError(`toMatch: ${show(actual)} is not a string`);
      const pass = typeof e === 'string' ? actual.includes(e) : (e as RegExp).test(actual);
      return { pass, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to match ${show(e)}` };
    },
    toThrow: (e?: ThrowExpectation) => throwVerdict(actual, thrown, e),
    toThrowError: (e?: ThrowExpectation) => throwVerdict(actual, thrown, e),
    toBeInstanceOf: (cls) => ({ pass: typeof cls === 'function' && actual instanceof cls, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be an instance of ${cls?.name ?? show(cls)}` }),
    toBeTypeOf: (type) => ({ pass: typeof actual === type, message: (neg) => `expected ${show(actual)} (${typeof actual}) ${neg ? 'not ' : ''}to be of type ${type}` }),
    toMatchObject: (e) => ({ pass: matchesObject(actual, e), expected: e, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to match object ${show(e)}` }),
    toHaveProperty: (...args: unknown[]) => {
      const path = parsePath(args[0] as string);
      let v: unknown = actual;
      let found = true;
      for (const key of path) {
        if (v === null || v === undefined || !(key in Object(v))) { found = false; break; }
        v = (v as Record<string | number, unknown>)[key];
      }
      const pass = found && (args.length < 2 || equals(v, args[1]));
      return { pass, message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to have property ${path.join('.')}${args.length >= 2 ? ` = ${show(args[1])}${found ? ` (it is ${show(v)})` : ''}` : ''}` };
    },
    toSatisfy: (pred) => ({ pass: !!pred(actual), message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to satisfy ${pred.name || 'the predicate'}` }),
    toBeOneOf: (options) => ({ pass: options.some((o: unknown) => equals(actual, o)), message: (neg) => `expected ${show(actual)} ${neg ? 'not ' : ''}to be one of ${show(options)}` }),
    toHaveBeenCalled: () => {
      const n = mockOf(actual).calls.length;
      return { pass: n > 0, message: (neg) => `expected the mock ${neg ? 'not ' : ''}to have been called (calls: ${n})` };
    },
    toHaveBeenCalledTimes: (times) => {
      const n = mockOf(actual).calls.length;
      return { pass: n === times, message: (neg) => `expected the mock ${neg ? 'not ' : ''}to have been called ${times} times (calls: ${n})` };
    },
    toHaveBeenCalledWith: (...args) => {
      const calls = mockOf(actual).calls;
      return { pass: calls.some((c) => equals(c, args)), message: (neg) => `expected the mock ${neg ? 'not ' : ''}to have been called with ${show(args)} (calls: ${show(calls)})` };
    },
    toHaveBeenLastCalledWith: (...args) => {
      const calls = mockOf(actual).calls;
      const last = calls[calls.length - 1];
      return { pass: last !== undefined && equals(last, args), message: (neg) => `expected the last call ${neg ? 'not ' : ''}to have been with ${show(args)} (it was ${show(last)})` };
    },
  };
}

function throwVerdict(actual: unknown, thrown: boolean, e: ThrowExpectation): Verdict {
  let didThrow = thrown;
  let err: unknown = thrown ? actual : undefined;
  if (!thrown) {
    if (typeof actual !== 'function') throw new TypeError(`toThrow: ${show(actual)} is not a function (use .rejects for promises)`);
    try {
      const r = (actual as AnyFn)();
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        // A rejected promise is not a throw; say so rather than leave an unhandled rejection.
        (r as Promise<unknown>).catch(() => {});
      }
    } catch (x) {
      didThrow = true;
      err = x;
    }
  }
  const what = e === undefined ? '' : ` matching ${typeof e === 'function' ? e.name : show(e)}`;
  return {
    pass: didThrow && thrownMatches(err, e),
    message: (neg) =>
      !didThrow ? `expected the function to throw${what}, but it returned` : `expected the function ${neg ? 'not ' : ''}to throw${what}; it threw ${show(err)}`,
  };
}

function fail(v: Verdict, negated: boolean, actual: unknown, note?: string): never {
  throw new AssertionError({
    message: (note ? `${note}: ` : '') + v.message(negated),
    actual,
    expected: v.expected,
    operator: negated ? 'not' : 'expect',
    stackStartFn: fail,
  });
}

function syncMatchers(actual: unknown, negated: boolean, thrown: boolean, note?: string): Matchers<void> {
  const table = verdicts(actual, thrown);
  const out = {} as Record<string, (...args: unknown[]) => void>;
  for (const [name, judge] of Object.entries(table)) {
    out[name] = (...args: unknown[]) => {
      assertionCount++;
      const v = judge(...args);
      if (v.pass === negated) fail(v, negated, actual, note);
    };
  }
  return out as unknown as Matchers<void>;
}

function asyncMatchers(promise: unknown, kind: 'resolves' | 'rejects', negated: boolean, note?: string): Matchers<Promise<void>> {
  const out = {} as Record<string, (...args: unknown[]) => Promise<void>>;
  for (const name of Object.keys(verdicts(undefined, false))) {
    out[name] = async (...args: unknown[]) => {
      if (!promise || typeof (promise as Promise<unknown>).then !== 'function') {
        throw new TypeError(`expect(...).${kind}: ${show(promise)} is not a promise`);
      }
      let value: unknown;
      let rejected = false;
      try {
        value = await promise;
      } catch (err) {
        rejected = true;
        value = err;
      }
      if (kind === 'resolves' && rejected) throw new AssertionError({ message: `${note ? `${note}: ` : ''}expected the promise to resolve, but it rejected with ${show(value)}` });
      if (kind === 'rejects' && !rejected) throw new AssertionError({ message: `${note ? `${note}: ` : ''}expected the promise to reject, but it resolved to ${show(value)}` });
      (syncMatchers(value, negated, kind === 'rejects', note) as unknown as Record<string, AnyFn>)[name]!(...args);
    };
  }
  return out as unknown as Matchers<Promise<void>>;
}

export interface Expect {
  (actual: unknown, message?: string): Assertion;
  any(cls: unknown): AsymmetricMatcher;
  anything(): AsymmetricMatcher;
  objectContaining(o: object): AsymmetricMatcher;
  arrayContaining(a: readonly unknown[]): AsymmetricMatcher;
  stringContaining(s: string): AsymmetricMatcher;
  stringMatching(r: string | RegExp): AsymmetricMatcher;
  closeTo(n: number, digits?: number): AsymmetricMatcher;
  assertions(n: number): void;
  hasAssertions(): void;
}

function asym(name: string, match: (v: unknown) => boolean): AsymmetricMatcher {
  return { asymmetricMatch: match, toString: () => name, [inspect.custom]: () => name } as AsymmetricMatcher;
}

export const expect: Expect = Object.assign(
  (actual: unknown, message?: string): Assertion => {
    const resolves = Object.assign(asyncMatchers(actual, 'resolves', false, message), { not: asyncMatchers(actual, 'resolves', true, message) });
    const rejects = Object.assign(asyncMatchers(actual, 'rejects', false, message), { not: asyncMatchers(actual, 'rejects', true, message) });
    return Object.assign(syncMatchers(actual, false, false, message), { not: syncMatchers(actual, true, false, message), resolves, rejects });
  },
  {
    any: (cls: unknown) =>
      asym(`Any<${(cls as { name?: string })?.name ?? '?'}>`, (v) => {
        if (cls === Number) return typeof v === 'number' || v instanceof Number;
        if (cls === String) return typeof v === 'string' || v instanceof String;
        if (cls === Boolean) return typeof v === 'boolean' || v instanceof Boolean;
        if (cls === BigInt) return typeof v === 'bigint';
        if (cls === Symbol) return typeof v === 'symbol';
        if (cls === Function) return typeof v === 'function';
        return typeof cls === 'function' && v instanceof cls;
      }),
    anything: () => asym('Anything', (v) => v !== null && v !== undefined),
    objectContaining: (o: object) => asym(`ObjectContaining ${show(o)}`, (v) => typeof v === 'object' && v !== null && Object.entries(o).every(([k, e]) => k in v && equals((v as Record<string, unknown>)[k], e))),
    arrayContaining: (a: readonly unknown[]) => asym(`ArrayContaining ${show(a)}`, (v) => Array.isArray(v) && a.every((e) => v.some((x) => equals(x, e)))),
    stringContaining: (s: string) => asym(`StringContaining ${show(s)}`, (v) => typeof v === 'string' && v.includes(s)),
    stringMatching: (r: string | RegExp) => asym(`StringMatching ${show(r)}`, (v) => typeof v === 'string' && (typeof r === 'string' ? new RegExp(r) : r).test(v)),
    closeTo: (n: number, digits = 2) => asym(`CloseTo ${n}`, (v) => typeof v === 'number' && Math.abs(v - n) < 10 ** -digits / 2),
    assertions: (n: number) => { expectedAssertions = n; },
    hasAssertions: () => { requireAssertions = true; },
  },
);

// ---------------------------------------------------------------------------------------------
// vi: mock functions and spies (vitest "vi.fn", "vi.spyOn"), the small part tests use

interface MockState {
  calls: unknown[][];
  results: Array<{ type: 'return' | 'throw'; value: unknown }>;
}

export interface Mock<F extends AnyFn = AnyFn> {
  (...args: Parameters<F>): ReturnType<F>;
  mock: MockState;
  mockImplementation(fn: AnyFn): Mock<F>;
  mockImplementationOnce(fn: AnyFn): Mock<F>;
  mockReturnValue(v: unknown): Mock<F>;
  mockReturnValueOnce(v: unknown): Mock<F>;
  mockResolvedValue(v: unknown): Mock<F>;
  mockRejectedValue(v: unknown): Mock<F>;
  mockClear(): Mock<F>;
  mockReset(): Mock<F>;
  mockRestore(): void;
}

const restorers: Array<() => void> = [];

function makeMock<F extends AnyFn>(impl?: F, restore?: () => void): Mock<F> {
  let current: AnyFn | undefined = impl;
  const once: AnyFn[] = [];
  const state: MockState = { calls: [], results: [] };
  const mock = function (this: unknown, ...args: unknown[]) {
    state.calls.push(args);
    const f = once.shift() ?? current;
    try {
      const value = f ? f.apply(this, args) : undefined;
      state.results.push({ type: 'return', value });
      return value;
    } catch (err) {
      state.results.push({ type: 'throw', value: err });
      throw err;
    }
  } as unknown as Mock<F>;
  mock.mock = state;
  mock.mockImplementation = (fn) => { current = fn; return mock; };
  mock.mockImplementationOnce = (fn) => { once.push(fn); return mock; };
  mock.mockReturnValue = (v) => mock.mockImplementation(() => v);
  mock.mockReturnValueOnce = (v) => mock.mockImplementationOnce(() => v);
  mock.mockResolvedValue = (v) => mock.mockImplementation(() => Promise.resolve(v));
  mock.mockRejectedValue = (v) => mock.mockImplementation(() => Promise.reject(v));
  mock.mockClear = () => { state.calls.length = 0; state.results.length = 0; return mock; };
  mock.mockReset = () => { mock.mockClear(); current = undefined; once.length = 0; return mock; };
  mock.mockRestore = () => { mock.mockReset(); restore?.(); };
  return mock;
}

export const vi = {
  fn: <F extends AnyFn>(impl?: F): Mock<F> => makeMock(impl),
  spyOn(obj: object, key: string | symbol): Mock {
    const target = obj as Record<string | symbol, unknown>;
    const original = target[key];
    if (typeof original !== 'function') throw new TypeError(`vi.spyOn: ${String(key)} is not a method`);
    const restore = () => { target[key] = original; };
    const spy = makeMock(original as AnyFn, restore);
    target[key] = spy;
    restorers.push(restore);
    return spy;
  },
  isMockFunction: (f: unknown): boolean => typeof f === 'function' && !!(f as { mock?: unknown }).mock,
  restoreAllMocks(): void {
    while (restorers.length) restorers.pop()!();
  },
};
