/*
 * The positive control of the riscv64 ASan run (scripts/asan/rig-guest.sh): a shared object built
 * with exactly the addon's sanitizer flags (scripts/asan/riscv64-flags.sh) whose constructor reads
 * one byte past a 16-byte heap block. Loaded into node under the preloaded runtime, it must make
 * ASan report a heap-buffer-overflow; if it does not, a clean misuse run proves nothing (the flags,
 * the runtime or the shadow layout would be broken).
 *
 * Not an addon: process.dlopen() runs the constructor and then fails to find a module, which is
 * fine because the constructor never returns (halt_on_error=1).
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void read_past_heap_block(void) {
  volatile char *block = malloc(16);
  if (block == NULL) return;
  char past = block[16]; /* heap-buffer-overflow: what the runtime must catch */
  printf("asan canary: read %d past the block and was not stopped\n", past);
  free((void *)block);
}
