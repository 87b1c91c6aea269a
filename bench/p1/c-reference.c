/*
 * P1 reference: the smallest C VMM that runs bench/guest/p1-loop.bin on KVM and answers each
 * experimental-range SBI call (KVM_EXIT_RISCV_SBI, Documentation/virt/kvm/api.rst §5 "kvm_run")
 * with ret = {0, sequence + 1}. kvm-riscv's TypeScript loop is measured against this one in the same
 * rig boot (bench/p1-sbi-roundtrip.ts), because only ratios inside one nested-QEMU boot mean anything.
 *
 * Usage: c-reference <p1-loop.bin> <calls> [touch_pages]
 * Prints one JSON line: {"path":"c","calls":N,"us_per_exit":X,"sum":S,...}
 *
 * touch_pages (diagnostic, default 0): after each exit, read one byte from each of that many
 * distinct 4 KiB pages. Under nested TCG every guest entry/exit flushes the emulator's TLB, so a
 * VMM pays per page (and per block of code) it touches between two KVM_RUNs; this measures that
 * price for the report's breakdown of the JS paths.
 * Built statically with riscv64-linux-gnu-gcc against the cross kernel headers (6.1 is enough: it
 * only needs CORE ONE_REG ids and the riscv_sbi/system_event exits).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (4ULL << 20)
#define LOAD_ADDR (RAM_BASE + 0x200000ULL)
#define EID_EXPERIMENTAL 0x08000000UL
/* ONE_REG ids (kvm-riscv-abi.md §3.4): KVM_REG_RISCV | U64 | CORE | index */
#define REG_CORE(i) (0x8030000002000000ULL | (i))

static void die(const char *what) {
  fprintf(stderr, "c-reference: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void set_reg(int vcpu, uint64_t id, uint64_t value) {
  struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)&value};
  if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) die("KVM_SET_ONE_REG");
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s p1-loop.bin calls [touch_pages]\n", argv[0]);
    return 2;
  }
  long calls = strtol(argv[2], NULL, 0);
  long touch = argc == 4 ? strtol(argv[3], NULL, 0) : 0;
  if (touch < 0 || touch > 65536) touch = 0;
  volatile uint8_t *pages = NULL;
  if (touch) {
    pages = mmap(NULL, (size_t)touch << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) die("mmap touch pages");
    for (long i = 0; i < touch; i++) pages[i << 12] = (uint8_t)i;
  }
  unsigned touched = 0;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ram == MAP_FAILED) die("mmap ram");
  FILE *f = fopen(argv[1], "rb");
  if (!f) die(argv[1]);
  size_t n = fread(ram + (LOAD_ADDR - RAM_BASE), 1, RAM_SIZE - (LOAD_ADDR - RAM_BASE), f);
  fclose(f);
  if (n == 0) die("empty guest image");
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = RAM_BASE, .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)(uintptr_t)ram};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  set_reg(vcpu, REG_CORE(0), LOAD_ADDR); /* pc */
  set_reg(vcpu, REG_CORE(10), calls);   /* a0 = number of calls */

  struct timespec t0, t1;
  long exits = 0;
  uint64_t sum = 0, made = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (run->exit_reason == KVM_EXIT_RISCV_SBI && run->riscv_sbi.extension_id == EID_EXPERIMENTAL) {
      run->riscv_sbi.ret[0] = 0;
      run->riscv_sbi.ret[1] = run->riscv_sbi.args[0] + 1;
      for (long i = 0; i < touch; i++) touched += pages[i << 12];
      exits++;
      continue;
    }
    if (run->exit_reason == KVM_EXIT_SYSTEM_EVENT) break;
    fprintf(stderr, "c-reference: unexpected exit %u\n", run->exit_reason);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  /* The guest left its totals in a2/a3 at the SRST call. */
  struct kvm_one_reg r = {.id = REG_CORE(12), .addr = (uint64_t)(uintptr_t)&sum};
  if (ioctl(vcpu, KVM_GET_ONE_REG, &r) < 0) die("KVM_GET_ONE_REG a2");
  r.id = REG_CORE(13);
  r.addr = (uint64_t)(uintptr_t)&made;
  if (ioctl(vcpu, KVM_GET_ONE_REG, &r) < 0) die("KVM_GET_ONE_REG a3");
  double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("{\"path\":\"c\",\"calls\":%ld,\"exits\":%ld,\"us_per_exit\":%.3f,\"sum\":%llu,\"made\":%llu,\"touch_pages\":%ld,\"touched\":%u}\n",
         calls, exits, exits ? us / exits : 0.0, (unsigned long long)sum, (unsigned long long)made, touch, touched);
  return (made == (uint64_t)calls && exits == calls) ? 0 : 1;
}
