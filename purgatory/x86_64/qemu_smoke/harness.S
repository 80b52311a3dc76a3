/* harness.S: a stand-in for "the old kernel" and "the new kernel" around the real x86_64
 * purgatory blob, so QEMU can run the purgatory without the rest of kexec (run.py).
 *
 * QEMU loads this as a multiboot kernel (the a.out-kludge header: a flat file with its load
 * address in the header), entering 32-bit protected mode with paging off. Like relocate_kernel,
 * we build an identity map (first 1 GiB, 2 MiB pages), switch to 64-bit mode with a GDT of our
 * own whose selectors are NOT the boot protocol's (code 0x08, data 0x10), and jump to the
 * purgatory (at PURGATORY_ADDR unless run.py rewrote purgatory_slot) with junk in %rsp and the
 * other registers. run.py places the patched blob there and the hashed regions after it.
 *
 * "The kernel" is fake_kernel: the purgatory's params.entry points at it. It checks what the
 * 64-bit boot protocol promises (CS 0x10, DS/ES/SS 0x18, IF clear, %rsi = params.arg,
 * %rbx = 0), prints one line on COM1, and ends QEMU through isa-debug-exit (port 0xf4):
 * value 0x10 -> exit status 33 (state ok), 0x11 -> 35 (bad state).
 */
#define PURGATORY_ADDR 0x110000
#define EXPECTED_RSI 0x5a5a0000c0ffee00
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

	.text
	.code32
	.globl	harness_start
harness_start:
	/* 0x00: multiboot header (flags bit 16: the address fields below are valid). */
	.long	0x1badb002
	.long	0x00010000
	.long	-(0x1badb002 + 0x00010000)
	.long	harness_start			/* header_addr */
	.long	harness_start			/* load_addr */
	.long	0				/* load_end_addr: the whole file */
	.long	0				/* bss_end_addr: none */
	.long	start32				/* entry_addr */
	/* 0x20: what run.py needs to know about this file. */
	.quad	fake_kernel
	.quad	EXPECTED_RSI
purgatory_slot:				/* where the purgatory is; run.py may move it */
	.quad	PURGATORY_ADDR

start32:
	cli
	movl	$stack_top, %esp

	/* Page directory: 512 x 2 MiB pages, present | writable | huge. */
	movl	$pd, %edi
	movl	$0x83, %eax
	movl	$512, %ecx
1:	movl	%eax, (%edi)
	movl	$0, 4(%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b
	movl	$(pd + 3), pdpt
	movl	$(pdpt + 3), pml4

	movl	%cr4, %eax
	orl	$0x20, %eax			/* PAE */
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx		/* EFER */
	rdmsr
	orl	$0x100, %eax			/* LME */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* PG | PE */
	movl	%eax, %cr0
	lgdt	gdt_ptr
	ljmp	$0x08, $start64

	.code64
start64:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	/* Junk where the purgatory must not rely on anything. */
	movq	$0xdead0000dead0000, %rsp
	movq	$0x1111111111111111, %rbx
	movq	$0x2222222222222222, %rsi
	movq	$0x3333333333333333, %rbp
	movq	purgatory_slot, %rax
	jmpq	*%rax

	/* ---- the fake new kernel ---- */
fake_kernel:
	movq	%rsi, %r8			/* keep the register values we check */
	movq	%rbx, %r9
	xorl	%r10d, %r10d			/* bad-state bits */
	movw	%cs, %ax
	cmpw	$0x10, %ax
	je	1f
	orl	$1, %r10d
1:	movw	%ds, %ax
	cmpw	$0x18, %ax
	je	1f
	orl	$2, %r10d
1:	movw	%es, %ax
	cmpw	$0x18, %ax
	je	1f
	orl	$4, %r10d
1:	movw	%ss, %ax
	cmpw	$0x18, %ax
	je	1f
	orl	$8, %r10d
1:	pushfq
	popq	%rax
	testl	$0x200, %eax			/* IF */
	jz	1f
	orl	$16, %r10d
1:	movabsq	$EXPECTED_RSI, %rax
	cmpq	%rax, %r8
	je	1f
	orl	$32, %r10d
1:	testq	%r9, %r9
	jz	1f
	orl	$64, %r10d
1:	movq	$stack_top, %rsp
	testl	%r10d, %r10d
	jnz	.Lbad
	leaq	msg_ok(%rip), %rdi
	call	puts64
	movb	$0x10, %al
	jmp	.Lexit
.Lbad:
	leaq	msg_bad(%rip), %rdi
	call	puts64
	movl	%r10d, %eax			/* one hex digit per byte is enough: bits 0..6 */
	shrl	$4, %eax
	call	puthexdigit
	movl	%r10d, %eax
	call	puthexdigit
	movb	$'\n', %al
	call	putc64
	movb	$0x11, %al
.Lexit:
	outb	%al, $DEBUG_EXIT_PORT
2:	hlt
	jmp	2b

/* putc64: %al to COM1, waiting for the transmit register. Clobbers %edx, %ecx. */
putc64:
	movl	%eax, %ecx
	movw	$(COM1 + 5), %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	movl	%ecx, %eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

/* puts64: NUL-terminated string at %rdi. */
puts64:
1:	movb	(%rdi), %al
	testb	%al, %al
	jz	2f
	call	putc64
	incq	%rdi
	jmp	1b
2:	ret

/* puthexdigit: low nibble of %eax. */
puthexdigit:
	andl	$15, %eax
	leaq	hexdigits(%rip), %rdx
	movb	(%rdx, %rax), %al
	jmp	putc64

msg_ok:
	.asciz	"kdumpkit smoke: kernel entered, boot protocol state ok\n"
msg_bad:
	.asciz	"kdumpkit smoke: kernel entered, bad state 0x"
hexdigits:
	.ascii	"0123456789abcdef"

	.balign	8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff		/* 0x08 code, 64-bit */
	.quad	0x00cf93000000ffff		/* 0x10 data */
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt

	.balign	4096
pml4:	.fill	4096, 1, 0
pdpt:	.fill	4096, 1, 0
pd:	.fill	4096, 1, 0
stack:	.fill	4096, 1, 0
stack_top:			/* run.py checks that the harness ends below PURGATORY_ADDR */

	.section .note.GNU-stack, "", @progbits
