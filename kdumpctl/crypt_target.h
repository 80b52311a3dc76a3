// crypt_target.h: is the dump target on an encrypted (dm-crypt) device? The capture kernel
// cannot unlock one (its initramfs asks nobody for a passphrase), so `kdumpctl start` refuses
// such a target at once rather than lose the dump after a crash (issue 17). Found in sysfs:
// a device-mapper device whose dm/uuid starts "CRYPT-", the device itself or any device under
// it through slaves/ (LVM on LUKS), or the disk a partition is on.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include "lib/io/result.h"
#include "kdumpctl/host.h"
#include "lib/kdump/kdump_conf.h"

namespace kk {

// The name (dm/name, else the directory's) of the first dm-crypt device at or under the block
// device MAJ:MIN, looked up in `sysfs` (normally "/sys"); nullopt when there is none.
std::optional<std::string> crypt_layer(const std::string& sysfs, unsigned maj, unsigned min);

// The block device the dump will be written to, as seen from the first kernel: the file
// system holding `path` (rootfs), the device named (fs, raw); nullopt for ssh and nfs, and
// when it cannot be found (then nothing is refused).
std::optional<dev_t> target_block_device(const Host& h, const KdumpConf& conf);

// "... is on an encrypted device ..." when the target is, else nullopt.
std::optional<std::string> encrypted_target_reason(const Host& h, const KdumpConf& conf);

}  // namespace kk
