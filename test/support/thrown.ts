/**
 * Assertion helpers for the bad-input tests (test/unit/bad-input-*.test.ts): the error a call
 * throws, and a check of its exact class and message.
 */
import { expect } from 'vitest';

/** The error `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception, none was thrown');
}

/** `fn` throws exactly an instance of `cls` (not a subclass) whose message matches `message`. */
export function expectThrows(fn: () => unknown, cls: new (...args: never[]) => Error, message: RegExp): void {
  const e = thrown(fn);
  expect(e, `${e.name}: ${e.message}`).toBeInstanceOf(cls);
  expect(e.constructor).toBe(cls);
  expect(e.message).toMatch(message);
}
