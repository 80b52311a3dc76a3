/* verify.h: what each architecture's purgatory gives the shared check (verify.c): one console
 * byte (polled, bounded wait; silent when the loader named no console) and a stop that never
 * returns. kk_purgatory_main() returns only when the image may boot.
 */
#ifndef KK_PURGATORY_VERIFY_H
#define KK_PURGATORY_VERIFY_H

void kk_arch_putc(char c);
__attribute__((noreturn)) void kk_arch_halt(void);
void kk_purgatory_main(void);

#endif
