export { SbiRegistry, notSupported, success } from './registry.js';
export type { SbiCall, SbiContext, SbiExtension, SbiHandler, SbiResult } from './registry.js';
export { GuestAddressSpace } from './guest-memory.js';
export { createDbcnExtension, DBCN_MAX_TRANSFER } from './dbcn.js';
export type { ConsoleInput, ConsoleOutput } from './dbcn.js';
export { createLegacyConsoleExtensions } from './legacy-console.js';
export { createUserExtension } from './user-extension.js';
export type { UserFunctionHandler } from './user-extension.js';
