#include "dumpfilter/stop_signal.h"

#include <csignal>
#include <initializer_list>

namespace kk {

namespace {
volatile std::sig_atomic_t g_stop = 0;  // async-signal-safe: written by the handler only

extern "C" void on_stop_signal(int sig) { g_stop = sig; }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // writes in progress finish; the dumper stops at the next page
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int stop_signal() { return g_stop; }

void set_stop_signal(int sig) { g_stop = sig; }

}  // namespace kk
