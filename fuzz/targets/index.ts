/** Every fuzz target, in the order `npm run fuzz` runs them. */
import type { FuzzTarget } from '../harness.js';
import { createCpuTarget } from './cpu.js';
import { createDevicesTarget } from './devices.js';
import { createParsersTarget } from './parsers.js';
import { createSbiKernelTarget } from './sbi-kernel.js';
import { createSbiUserTarget } from './sbi-user.js';

export interface TargetFactory {
  readonly name: string;
  create(): FuzzTarget<unknown> | Promise<FuzzTarget<unknown>>;
}

export const TARGETS: readonly TargetFactory[] = [
  { name: 'sbi-user', create: () => createSbiUserTarget() as FuzzTarget<unknown> },
  { name: 'sbi-kernel', create: () => createSbiKernelTarget() as FuzzTarget<unknown> },
  { name: 'devices', create: () => createDevicesTarget() as FuzzTarget<unknown> },
  { name: 'cpu', create: () => createCpuTarget() as FuzzTarget<unknown> },
  { name: 'parsers', create: () => createParsersTarget() as FuzzTarget<unknown> },
];
