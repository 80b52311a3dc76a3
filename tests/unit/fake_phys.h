// fake_phys.h: sparse fake physical memory for the page-table tests: 4 KiB pages created on
// first write; reading an absent page fails, as a dump without that page would.
#pragma once

#include <array>
#include <cstring>
#include <map>

#include "lib/io/hex.h"
#include "lib/kernel/phys_reader.h"

namespace kk {

class FakePhys : public PhysReader {
 public:
  void put64(u64 paddr, u64 v) {
    auto& page = pages_[paddr & ~0xfffull];
    std::memcpy(page.data() + (paddr & 0xfff), &v, 8);
  }
  Result<void> read_phys(u64 paddr, std::span<std::byte> out) const override {
    ++reads;
    for (size_t done = 0; done < out.size();) {
      u64 a = paddr + done;
      auto it = pages_.find(a & ~0xfffull);
      if (it == pages_.end()) return make_error(Errc::missing, "no page at " + hex(a));
      size_t n = std::min<size_t>(out.size() - done, 0x1000 - (a & 0xfff));
      std::memcpy(out.data() + done, it->second.data() + (a & 0xfff), n);
      done += n;
    }
    return {};
  }
  mutable int reads = 0;

 private:
  std::map<u64, std::array<std::byte, 4096>> pages_;
};

}  // namespace kk
