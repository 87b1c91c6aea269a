# P1 workload: a tight loop of experimental-range SBI calls (EID 0x08000000, FID 0), each one a
# KVM_EXIT_RISCV_SBI round trip through user space. a0 on entry = number of calls (set by the VMM
# through ONE_REG). Every reply's a1 is accumulated so a VMM that answers wrongly is visible at the
# end: the final SRST shutdown carries the sum in a2 and the call count in a3.
        .option norvc
        .globl _start
_start:
        mv      s0, a0                  # s0 = calls left
        li      s1, 0                   # s1 = sum of returned a1
        li      s2, 0                   # s2 = calls made
1:      beqz    s0, 2f
        li      a7, 0x08000000          # EID: experimental range (forwarded by KVM)
        li      a6, 0                   # FID 0
        mv      a0, s2                  # arg0 = sequence number
        ecall
        add     s1, s1, a1
        addi    s2, s2, 1
        addi    s0, s0, -1
        j       1b
2:      li      a7, 0x53525354          # SRST
        li      a6, 0                   # system_reset
        li      a0, 0                   # type: shutdown
        li      a1, 0                   # reason: none
        mv      a2, s1
        mv      a3, s2
        ecall
3:      j       3b
