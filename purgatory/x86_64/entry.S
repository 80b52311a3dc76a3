/* entry.S: first and last instructions of the x86_64 purgatory (kexec_load path).
 *
 * The old kernel's relocate_kernel jumps to byte 0 of the blob in 64-bit mode, with an
 * identity-mapped page table of its own, interrupts off, and nothing else we can rely on: no
 * stack, and a GDT that lived in the old kernel. So we make our own stack and GDT, let C verify
 * the segments, then enter the new kernel the way the 64-bit boot protocol wants
 * (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"): CS = 0x10, DS/ES/SS = 0x18, both
 * 4 GiB flat, interrupts off, %rsi = boot_params.
 *
 * The blob runs wherever the loader put it, so every address here is RIP-relative (lea/mov
 * sym(%rip)); the one absolute address the CPU needs, the GDT base for lgdt, is computed at run
 * time. The build links this as a static PIE and fails if a single relocation survives
 * (purgatory/check_relocs.py).
 */
#include "purgatory/include/purgatory_abi.h"

#define KK_STACK_SIZE (16 * 1024)

	.section .text.entry, "ax"
	.code64
	.globl kk_purgatory_start
	.type kk_purgatory_start, @function
kk_purgatory_start:
	/* Offset 0: jump over the parameter block (e9 rel32: the block is too long for a short jmp). */
	jmp	.Lstart

	/* The parameter block the loader patches (struct kk_purgatory_params, purgatory_abi.h).
	 * It lives in .text because it must sit at a fixed offset of the file image. */
	.org	KK_PURGATORY_PARAMS_OFFSET, 0xcc
	.globl	kk_purgatory_params
	.hidden	kk_purgatory_params
	.type	kk_purgatory_params, @object
kk_purgatory_params:
	.quad	KK_PURGATORY_MAGIC
	.long	KK_PURGATORY_ABI_VERSION
	.long	0				/* nr_regions */
	/* image_mem_size: a link-time difference, so no relocation reaches the output. */
	.quad	kk_image_end - kk_purgatory_start
	.fill	KK_PP_SIZE - KK_PP_ENTRY, 1, 0	/* entry ... digest: the loader's */
	.size	kk_purgatory_params, . - kk_purgatory_params

.Lstart:
kk_purgatory_setup:		/* a named (local) symbol, for disassembly */
	cli
	cld

	/* Zero .bss (stack and GDT pointer included). kexec already zero-fills a segment's memsz
	 * past its file bytes, but a blob started some other way (the QEMU smoke test) may not be. */
	leaq	kk_bss_start(%rip), %rdi
	leaq	kk_image_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb

	leaq	kk_stack_top(%rip), %rsp

	/* Our own GDT: lgdt takes an absolute base, which we only know now. */
	leaq	kk_gdt(%rip), %rax
	movw	$(kk_gdt_end - kk_gdt - 1), kk_gdt_ptr(%rip)
	movq	%rax, kk_gdt_ptr + 2(%rip)
	lgdt	kk_gdt_ptr(%rip)

	movl	$KK_X86_BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* Reload CS through a far return: lretq pops RIP, then CS. */
	leaq	.Lreloaded(%rip), %rax
	pushq	$KK_X86_BOOT_CS
	pushq	%rax
	lretq
.Lreloaded:

	/* Returns only when the image may boot; on a mismatch it halts forever. */
	call	kk_purgatory_main

	/* Enter the kernel: %rsi = boot_params, %rbx = 0 (the boot CPU), every other GPR zero
	 * (%rax too: the jump reads its target from memory). %rsp stays on our stack, valid memory
	 * until the kernel switches to its own. */
	movq	kk_purgatory_params + KK_PP_ARG(%rip), %rsi
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmpq	*kk_purgatory_params + KK_PP_ENTRY(%rip)
	.size	kk_purgatory_start, . - kk_purgatory_start

	/* Null, unused, then the two flat descriptors at 0x10 and 0x18. The accessed bit is preset
	 * (types 0x9b, 0x93) so the CPU never writes to this table when a selector is loaded. */
	.section .rodata.gdt, "a"
	.balign	16
kk_gdt:
	.quad	0x0000000000000000		/* 0x00 null */
	.quad	0x0000000000000000		/* 0x08 unused */
	.quad	0x00af9b000000ffff		/* 0x10 code: base 0, limit 4 GiB, G, L (64-bit), exec/read */
	.quad	0x00cf93000000ffff		/* 0x18 data: base 0, limit 4 GiB, G, D/B, read/write */
kk_gdt_end:

	.section .bss.entry, "aw", @nobits
	.balign	16
kk_gdt_ptr:
	.skip	16				/* u16 limit, u64 base (10 bytes used) */
	.balign	16
kk_stack:
	.skip	KK_STACK_SIZE
kk_stack_top:

	.section .note.GNU-stack, "", @progbits
