// fuzz_kdump_conf.cpp: /etc/kdump.conf text through the strict reader kdumpctl uses, then what
// kdumpctl does with the result (the collector's words, the names it prints).
#include "tests/fuzz/fuzz_util.h"
#include "lib/kdump/kdump_conf.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<KdumpConf> c = parse_kdump_conf(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!c) return 0;
  std::vector<std::string> w = collector_words(*c);
  // kdumpctl runs the collector: a valid file must leave it a program name to run.
  if (w.empty()) __builtin_trap();
  (void)to_string(c->target);
  (void)to_string(c->failure_action);
  (void)to_string(c->final_action);
  return 0;
}
