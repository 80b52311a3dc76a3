/* purgatory.c: what is arm64 in the arm64 purgatory: its console (a PL011 UART, memory-mapped,
 * at the physical address the loader gives in console_port; 0 = silent) and how it stops. The
 * check itself is shared (../verify.c). The MMU is off, so every access is to Device memory:
 * the build passes -mstrict-align, as an unaligned access would fault.
 */
#include <stdint.h>

#include "purgatory/include/purgatory_abi.h"
#include "purgatory/verify.h"

extern struct kk_purgatory_params kk_purgatory_params;

#define KK_PL011_DR 0x00
#define KK_PL011_FR 0x18
#define KK_PL011_FR_TXFF (1u << 5) /* transmit FIFO full */

/* Polled, with a bounded wait, as the old kernel left the UART (no baud programming). */
void kk_arch_putc(char c) {
  uintptr_t base = (uintptr_t)kk_purgatory_params.console_port;
  if (base == 0) return;
  volatile uint32_t *fr = (volatile uint32_t *)(base + KK_PL011_FR);
  volatile uint32_t *dr = (volatile uint32_t *)(base + KK_PL011_DR);
  for (unsigned spin = 0; spin < 20000; spin++) {
    if (!(*fr & KK_PL011_FR_TXFF)) break;
  }
  *dr = (uint32_t)(uint8_t)c;
}

__attribute__((noreturn)) void kk_arch_halt(void) {
  for (;;) __asm__ volatile("msr daifset, #0xf\n\twfi" ::: "memory");
}
