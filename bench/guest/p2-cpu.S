# P2 workload: a CPU-bound S-mode program for the emulator-vs-QEMU MIPS benchmark (bench/p2-mips.ts).
# Integer ALU work, loads and stores over a 64 KiB array, data-dependent branches and calls; no
# floating point, no paging, no SBI calls until the end. ITERATIONS is given at assembly time
# (--defsym), so the benchmark can build a short and a long variant and subtract start-up time.
# Ends with SBI SRST shutdown (EID "SRST", FID 0, type 0, reason 0) with a checksum in a2 so a
# wrong result is visible, and the retired-instruction count (rdinstret) in a3.
        .option norvc
        .section .text
        .globl _start
_start:
        la      s0, buffer              # s0 = array base
        li      s1, ITERATIONS          # s1 = outer iterations left
        li      s2, 0x9e3779b97f4a7c15  # s2 = hash state (golden-ratio constant)
        li      s3, 0                   # s3 = checksum
outer:
        li      t0, 0                   # t0 = index
        li      t1, 1024                # 1024 words of 8 bytes per pass = 8 KiB
inner:
        slli    t2, t0, 3
        add     t2, t2, s0
        ld      t3, 0(t2)               # load
        xor     t3, t3, s2
        mul     t4, t3, s2              # multiply
        srli    t5, t4, 29
        xor     s2, s2, t5
        add     t3, t3, t4
        andi    t6, t3, 1
        beqz    t6, even                # data-dependent branch
        addi    s3, s3, 3
        j       store
even:
        jal     ra, mix                 # call/return
store:
        sd      t3, 0(t2)               # store
        addi    t0, t0, 1
        bne     t0, t1, inner
        addi    s1, s1, -1
        bnez    s1, outer
        # SBI SRST shutdown with the checksum in a2 (ignored by the SBI implementation).
        li      a7, 0x53525354
        li      a6, 0
        li      a0, 0
        li      a1, 0
        add     a2, s3, s2
        rdinstret a3                    # instructions retired so far (Zicntr), for the MIPS figure
        ecall
1:      j       1b

mix:    rol_emul:
        slli    a5, s3, 13
        srli    a4, s3, 51
        or      s3, a5, a4
        addi    s3, s3, 7
        ret

        .section .bss
        .balign 4096
buffer: .skip 8192
