/*
 * dirty: stores to known pages of a dirty-logged slot (KVM_MEM_LOG_DIRTY_PAGES, api.rst 4.8
 * KVM_GET_DIRTY_LOG). DIRTY_BASE = 0x90000000, a slot of 16 pages the test creates.
 *   phase 1: sd -> page 0, sd -> page 3 (+8), sb -> last byte of page 5; then report 1
 *   phase 2: sw -> page 7, sw -> page 0 again; then report 2
 * then SRST shutdown. The test reads the log after each report: pages {0,3,5}, then {0,7}.
 */
	.include "common.S"
	.equ DIRTY_BASE, 0x90000000
	.equ PAGE, 4096
	.section .text.entry, "ax"
	.globl _start
_start:
	li s0, DIRTY_BASE
	li t0, 0xD1D2D3D4D5D6D7D8
	sd t0, 0(s0)
	li t1, DIRTY_BASE + 3 * PAGE + 8
	sd t0, 0(t1)
	li t1, DIRTY_BASE + 6 * PAGE - 1
	sb t0, 0(t1)
	REPORT 1
	li t1, DIRTY_BASE + 7 * PAGE
	sw t0, 0(t1)
	sw t0, 4(s0)
	REPORT 2
	SHUTDOWN
