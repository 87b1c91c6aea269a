/**
 * The few parts of the JavaScript WebAssembly API (WebAssembly JS API spec §5) the emulator uses,
 * typed here because the project compiles without the DOM library that declares them.
 */
export interface WasmMemory {
  /** An ArrayBuffer, or a SharedArrayBuffer for a shared memory. */
  readonly buffer: ArrayBufferLike;
  /** Grows by `pages` 64 KiB pages; returns the old size in pages; throws RangeError on failure. */
  grow(pages: number): number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmNamespace {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;
