/* entry.S: first and last instructions of the arm64 purgatory (kexec_load path).
 *
 * The old kernel's cpu_soft_restart / arm64_relocate_new_kernel copies the segments and branches
 * to byte 0 of the blob with the MMU and D-cache off, interrupts masked, at EL2 or EL1: there is
 * no stack. We make our own, let C verify the segments, then enter the new kernel as
 * Documentation/arch/arm64/booting.rst asks: x0 = physical address of the device tree, x1 = x2 =
 * x3 = 0, MMU off (it still is), jump to the first byte of the Image.
 *
 * Everything is PC-relative (adr/adrp), and the build fails if a single relocation survives
 * (purgatory/check_relocs.py).
 */
#include "purgatory/include/purgatory_abi.h"

#define KK_STACK_SIZE (16 * 1024)

	.section .text.entry, "ax"
	.globl kk_purgatory_start
	.type kk_purgatory_start, %function
kk_purgatory_start:
	b	.Lstart

	/* The parameter block the loader patches (struct kk_purgatory_params). */
	.org	KK_PURGATORY_PARAMS_OFFSET, 0
	.globl	kk_purgatory_params
	.hidden	kk_purgatory_params
	.type	kk_purgatory_params, %object
kk_purgatory_params:
	.quad	KK_PURGATORY_MAGIC
	.long	KK_PURGATORY_ABI_VERSION
	.long	0				/* nr_regions */
	.quad	kk_image_end - kk_purgatory_start	/* image_mem_size: link-time difference */
	.fill	KK_PP_SIZE - KK_PP_ENTRY, 1, 0	/* entry ... digest: the loader's */
	.size	kk_purgatory_params, . - kk_purgatory_params

	.balign	8
.Lstart:
	/* Zero .bss (kexec zero-fills memsz past the file bytes; a blob started otherwise may not). */
	adrp	x0, kk_bss_start
	add	x0, x0, :lo12:kk_bss_start
	adrp	x1, kk_image_end
	add	x1, x1, :lo12:kk_image_end
1:	cmp	x0, x1
	b.hs	2f
	strb	wzr, [x0], #1
	b	1b
2:	adrp	x0, kk_stack_top
	add	x0, x0, :lo12:kk_stack_top
	mov	sp, x0
	/* Returns only when the image may boot; on a mismatch it stops forever. */
	bl	kk_purgatory_main
	adrp	x5, kk_purgatory_params
	add	x5, x5, :lo12:kk_purgatory_params
	ldr	x4, [x5, #KK_PP_ENTRY]
	ldr	x0, [x5, #KK_PP_ARG]
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x4
	.size	kk_purgatory_start, . - kk_purgatory_start

	.section .bss
	.balign	16
kk_stack:
	.skip	KK_STACK_SIZE
kk_stack_top:
