/* purgatory.c: what is x86_64 in the x86_64 purgatory: its console (a 16550 UART on an I/O port)
 * and how it stops for good. The check itself is shared (../verify.c); entry.S sets up the
 * stack and GDT before it and enters the kernel after it.
 */
#include <stddef.h>
#include <stdint.h>

#include "purgatory/include/purgatory_abi.h"
#include "purgatory/verify.h"

/* Defined in entry.S, patched by the loader. */
extern struct kk_purgatory_params kk_purgatory_params;

/* ---- serial output (16550 UART, polled) ---- */

static inline void kk_outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t kk_inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

/* The UART is used as the old kernel left it (no baud programming): the same port its console
 * used. The wait for the transmit holding register is bounded, so a missing or stuck UART only
 * costs time, never the boot. */
void kk_arch_putc(char c) {
  uint16_t port = (uint16_t)kk_purgatory_params.console_port;
  if (port == 0) return;
  for (unsigned spin = 0; spin < 20000; spin++) {
    if (kk_inb((uint16_t)(port + 5)) & 0x20) break;  /* LSR.THRE */
  }
  kk_outb(port, (uint8_t)c);
}

/* ---- stop ---- */

__attribute__((noreturn)) void kk_arch_halt(void) {
  for (;;) __asm__ volatile("cli; hlt" ::: "memory");
}

