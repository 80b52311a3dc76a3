// test_report.cpp: the triage report's facts, from kernel logs as Linux 6.1 x86_64 prints them
// (makedumpfile --dump-dmesg form) for the crashes kdump sees most: a sysrq-c panic, a NULL
// dereference with panic_on_oops, a soft lockup with softlockup_panic, a BUG(), a hard lockup.
// NT_PRSTATUS notes are built in code with the x86_64 elf_prstatus layout (pr_pid at 32).
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "dumpfilter/report.h"
#include "lib/io/escape.h"
#include "lib/elf/elf_core.h"

using namespace kk;

namespace {

using Names = std::vector<std::string>;

Names reliable(const LogFacts& f) {
  Names n;
  for (const TraceFrame& fr : f.trace)
    if (fr.reliable) n.push_back(fr.function);
  return n;
}

Names unreliable(const LogFacts& f) {
  Names n;
  for (const TraceFrame& fr : f.trace)
    if (!fr.reliable) n.push_back(fr.function);
  return n;
}

// One ELF note: header, name padded to 4, desc padded to 4.
void add_note(std::vector<std::byte>& buf, std::string_view name, u32 type, const std::vector<std::byte>& desc) {
  ElfNoteHdr h;
  h.namesz = static_cast<u32>(name.size() + 1);
  h.descsz = static_cast<u32>(desc.size());
  h.type = type;
  const auto* hp = reinterpret_cast<const std::byte*>(&h);
  buf.insert(buf.end(), hp, hp + sizeof h);
  for (char c : name) buf.push_back(std::byte(c));
  buf.push_back(std::byte{0});
  while (buf.size() % 4) buf.push_back(std::byte{0});
  buf.insert(buf.end(), desc.begin(), desc.end());
  while (buf.size() % 4) buf.push_back(std::byte{0});
}

// The NT_PRSTATUS notes of a machine whose CPU i was running pids[i].
std::vector<std::byte> prstatus_notes(const std::vector<i32>& pids) {
  std::vector<std::byte> notes;
  for (i32 pid : pids) {
    std::vector<std::byte> desc(336);  // sizeof(struct elf_prstatus) on x86_64
    std::memcpy(desc.data() + 32, &pid, 4);
    add_note(notes, "CORE", kNtPrstatus, desc);
  }
  add_note(notes, "VMCOREINFO", 0, std::vector<std::byte>(16, std::byte{'A'}));
  notes.resize(notes.size() + 64);  // kexec's zero padding after the last note
  return notes;
}

const char* const kSysrq =
    "[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
    "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian "
    "6.1.192-2 (2026-11-16)\n"
    "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz-6.1.0-56-amd64 root=/dev/vda1 ro crashkernel=256M\n"
    "[   61.118022] e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX\n"
    "[ 3725.412200] sysrq: Trigger a crash\n"
    "[ 3725.412391] Kernel panic - not syncing: sysrq triggered crash\n"
    "[ 3725.412530] CPU: 2 PID: 4321 Comm: bash Kdump: loaded Tainted: G            E      "
    "6.1.0-56-amd64 #1  Debian 6.1.192-2\n"
    "[ 3725.412698] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\n"
    "[ 3725.412801] Call Trace:\n"
    "[ 3725.412843]  <TASK>\n"
    "[ 3725.412880]  dump_stack_lvl+0x44/0x5c\n"
    "[ 3725.412931]  panic+0x118/0x2f4\n"
    "[ 3725.412977]  ? _printk+0x68/0x83\n"
    "[ 3725.413022]  sysrq_handle_crash+0x16/0x20\n"
    "[ 3725.413069]  __handle_sysrq.cold+0x44/0x11c\n"
    "[ 3725.413118]  write_sysrq_trigger+0x24/0x40\n"
    "[ 3725.413164]  proc_reg_write+0x56/0xa0\n"
    "[ 3725.413208]  vfs_write+0xc7/0x3f0\n"
    "[ 3725.413250]  ksys_write+0x6b/0xf0\n"
    "[ 3725.413291]  do_syscall_64+0x5d/0xb0\n"
    "[ 3725.413335]  ? exit_to_user_mode_prepare+0x44/0x240\n"
    "[ 3725.413384]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8\n"
    "[ 3725.413430] RIP: 0033:0x7f2a7c0f6f33\n"
    "[ 3725.413470] Code: 8b 15 b1 9e 0c 00 f7 d8 64 89 02 48 c7 c0 ff ff ff ff eb b7 0f 1f 00 64 8b 04 25 18 "
    "00 00 00 85 c0 75 14 b8 01 00 00 00 0f 05 <48> 3d 00 f0 ff ff 77 55 c3 0f 1f 40 00 48 83 ec 28 48 89\n"
    "[ 3725.413560] RSP: 002b:00007ffd9c1e2b58 EFLAGS: 00000246 ORIG_RAX: 0000000000000001\n"
    "[ 3725.413611] RAX: ffffffffffffffda RBX: 0000000000000002 RCX: 00007f2a7c0f6f33\n"
    "[ 3725.413660] RDX: 0000000000000002 RSI: 0000562e5d3c1f40 RDI: 0000000000000001\n"
    "[ 3725.413708] RBP: 0000562e5d3c1f40 R08: 0000562e5d3c1f40 R09: 0000000000000000\n"
    "[ 3725.413756] R10: 00007f2a7c0d6fa0 R11: 0000000000000246 R12: 0000000000000002\n"
    "[ 3725.413804] R13: 00007f2a7c1d2780 R14: 0000000000000002 R15: 00007f2a7c1cd9e0\n"
    "[ 3725.413852]  </TASK>\n"
    "[ 3725.414020] Kernel Offset: 0x1c200000 from 0xffffffff81000000 (relocation range: "
    "0xffffffff80000000-0xffffffffbfffffff)\n";

const char* const kNullDeref =
    "[  312.401122] crashme: loading out-of-tree module taints kernel.\n"
    "[  312.401890] crashme: module verification failed: signature and/or required key missing - "
    "tainting kernel\n"
    "[  312.402713] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
    "[  312.402790] #PF: supervisor write access in kernel mode\n"
    "[  312.402833] #PF: error_code(0x0002) - not-present page\n"
    "[  312.402870] PGD 0 P4D 0 \n"
    "[  312.402913] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
    "[  312.402961] CPU: 3 PID: 2047 Comm: insmod Kdump: loaded Tainted: G           OE      "
    "6.1.0-56-amd64 #1  Debian 6.1.192-2\n"
    "[  312.403045] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 "
    "04/01/2014\n"
    "[  312.403120] RIP: 0010:crashme_init+0x15/0x1000 [crashme]\n"
    "[  312.403183] Code: Unable to access opcode bytes at 0xffffffffc0a0afeb.\n"
    "[  312.403240] RSP: 0018:ffffb2a5c0c4fc68 EFLAGS: 00010246\n"
    "[  312.403290] RAX: 0000000000000000 RBX: 0000000000000000 RCX: 0000000000000000\n"
    "[  312.403346] RDX: 0000000000000000 RSI: ffffffff9a6f8c8a RDI: ffffffffc0a0b000\n"
    "[  312.403400] RBP: ffffffffc0a0b000 R08: 0000000000000000 R09: 0000000000000000\n"
    "[  312.403453] R10: ffff9e8a41a3b1c0 R11: 0000000000000000 R12: ffff9e8a42d4a2a0\n"
    "[  312.403505] R13: ffffb2a5c0c4fe90 R14: 0000000000000000 R15: 0000000000000003\n"
    "[  312.403558] FS:  00007f1b8e4b3740(0000) GS:ffff9e8a7dd80000(0000) knlGS:0000000000000000\n"
    "[  312.403622] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
    "[  312.403671] CR2: 0000000000000008 CR3: 0000000102c4e000 CR4: 00000000000006e0\n"
    "[  312.403724] Call Trace:\n"
    "[  312.403750]  <TASK>\n"
    "[  312.403775]  ? __die_body.cold+0x1a/0x1f\n"
    "[  312.403822]  ? page_fault_oops+0xd2/0x2b0\n"
    "[  312.403870]  ? exc_page_fault+0x70/0x170\n"
    "[  312.403916]  ? asm_exc_page_fault+0x22/0x30\n"
    "[  312.403962]  ? crashme_init+0x15/0x1000 [crashme]\n"
    "[  312.404010]  do_one_initcall+0x5b/0x220\n"
    "[  312.404058]  do_init_module+0x4a/0x1f0\n"
    "[  312.404103]  __do_sys_finit_module+0xac/0x120\n"
    "[  312.404150]  do_syscall_64+0x5d/0xb0\n"
    "[  312.404196]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8\n"
    "[  312.404246] RIP: 0033:0x7f1b8e5d6719\n"
    "[  312.404410] RSP: 002b:00007ffd3a3e5f68 EFLAGS: 00000246 ORIG_RAX: 0000000000000139\n"
    "[  312.404470] RAX: ffffffffffffffda RBX: 0000558a1c6a37a0 RCX: 00007f1b8e5d6719\n"
    "[  312.404736]  </TASK>\n"
    "[  312.404760] Modules linked in: crashme(OE+) ext4 crc16 mbcache jbd2 virtio_blk virtio_pci\n"
    "[  312.404850] CR2: 0000000000000008\n"
    "[  312.404880] ---[ end trace 0000000000000000 ]---\n"
    "[  312.404920] RIP: 0010:crashme_init+0x15/0x1000 [crashme]\n"
    "[  312.404990] Code: Unable to access opcode bytes at 0xffffffffc0a0afeb.\n"
    "[  312.405040] RSP: 0018:ffffb2a5c0c4fc68 EFLAGS: 00010246\n"
    "[  312.405400] Kernel panic - not syncing: Fatal exception\n"
    "[  312.405800] Kernel Offset: 0x18a00000 from 0xffffffff81000000 (relocation range: "
    "0xffffffff80000000-0xffffffffbfffffff)\n";

const char* const kSoftLockup =
    "[  140.220412] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [spinner:733]\n"
    "[  140.220500] Modules linked in: spinmod(OE) ext4 crc16 mbcache jbd2\n"
    "[  140.220580] CPU: 1 PID: 733 Comm: spinner Kdump: loaded Tainted: G           OE      "
    "6.1.0-56-amd64 #1  Debian 6.1.192-2\n"
    "[  140.220650] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 "
    "04/01/2014\n"
    "[  140.220700] RIP: 0010:spin_forever+0x12/0x20 [spinmod]\n"
    "[  140.220760] Code: 90 90 90 90 0f 1f 44 00 00 eb fe 66 2e 0f 1f 84 00 00 00 00 00\n"
    "[  140.220800] RSP: 0018:ffffb2a5c0d2fe78 EFLAGS: 00000246\n"
    "[  140.220850] RAX: 0000000000000000 RBX: ffff9e8a42f1c000 RCX: 0000000000000000\n"
    "[  140.221000] Call Trace:\n"
    "[  140.221020]  <TASK>\n"
    "[  140.221040]  spinner_thread+0x2a/0x40 [spinmod]\n"
    "[  140.221070]  ? spin_forever+0x20/0x20 [spinmod]\n"
    "[  140.221100]  kthread+0xd7/0x100\n"
    "[  140.221130]  ? kthread_complete_and_exit+0x20/0x20\n"
    "[  140.221160]  ret_from_fork+0x1f/0x30\n"
    "[  140.221190]  </TASK>\n"
    "[  140.221220] Kernel panic - not syncing: softlockup: hung tasks\n"
    "[  140.221260] CPU: 1 PID: 733 Comm: spinner Kdump: loaded Tainted: G           OEL     "
    "6.1.0-56-amd64 #1  Debian 6.1.192-2\n"
    "[  140.221300] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 "
    "04/01/2014\n"
    "[  140.221330] Call Trace:\n"
    "[  140.221350]  <IRQ>\n"
    "[  140.221370]  dump_stack_lvl+0x44/0x5c\n"
    "[  140.221400]  panic+0x118/0x2f4\n"
    "[  140.221430]  watchdog_timer_fn.cold+0x14/0x14\n"
    "[  140.221460]  ? lockup_detector_update_enable+0x50/0x50\n"
    "[  140.221490]  __hrtimer_run_queues+0x112/0x2b0\n"
    "[  140.221520]  hrtimer_interrupt+0xfe/0x220\n"
    "[  140.221610]  </IRQ>\n"
    "[  140.221640]  <TASK>\n"
    "[  140.221670]  asm_sysvec_apic_timer_interrupt+0x16/0x20\n"
    "[  140.221700] RIP: 0010:spin_forever+0x12/0x20 [spinmod]\n"
    "[  140.221900]  spinner_thread+0x2a/0x40 [spinmod]\n"
    "[  140.222000]  </TASK>\n";

const char* const kBug =
    "[   57.880010] lkdtm: Performing direct entry BUG\n"
    "[   57.880100] ------------[ cut here ]------------\n"
    "[   57.880150] kernel BUG at drivers/misc/lkdtm/bugs.c:76!\n"
    "[   57.880220] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
    "[   57.880270] CPU: 0 PID: 811 Comm: bash Kdump: loaded Tainted: G        W          "
    "6.1.0-56-amd64 #1  Debian 6.1.192-2\n"
    "[   57.880330] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 "
    "04/01/2014\n"
    "[   57.880380] RIP: 0010:lkdtm_BUG+0x5/0x10 [lkdtm]\n"
    "[   57.880430] Code: cc cc cc cc 0f 1f 44 00 00 <0f> 0b 66 0f 1f 44 00 00 0f 1f 44 00 00\n"
    "[   57.880480] RSP: 0018:ffffb2a5c0b6bd98 EFLAGS: 00010246\n"
    "[   57.880700] Call Trace:\n"
    "[   57.880720]  <TASK>\n"
    "[   57.880740]  lkdtm_do_action+0x19/0x30 [lkdtm]\n"
    "[   57.880760]  direct_entry.cold+0x48/0x75 [lkdtm]\n"
    "[   57.880780]  full_proxy_write+0x5c/0x80\n"
    "[   57.880800]  vfs_write+0xc7/0x3f0\n"
    "[   57.880820]  ? do_sys_openat2+0x97/0x150\n"
    "[   57.880840]  ksys_write+0x6b/0xf0\n"
    "[   57.880860]  do_syscall_64+0x5d/0xb0\n"
    "[   57.880880]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8\n"
    "[   57.880900] RIP: 0033:0x7f3c2a0f6f33\n"
    "[   57.880950] RSP: 002b:00007ffe2e7c8a48 EFLAGS: 00000246 ORIG_RAX: 0000000000000001\n"
    "[   57.881000]  </TASK>\n"
    "[   57.881020] Modules linked in: lkdtm ext4 crc16 mbcache jbd2\n"
    "[   57.881100] ---[ end trace 0000000000000000 ]---\n"
    "[   57.881150] RIP: 0010:lkdtm_BUG+0x5/0x10 [lkdtm]\n"
    "[   57.881400] Kernel panic - not syncing: Fatal exception\n";

// An NMI watchdog hit on an idle CPU: the trace crosses from <IRQ> into <TASK> through a
// register dump (the interrupt's pt_regs), which must not end it.
const char* const kHardLockup =
    "[   88.100000] watchdog: Watchdog detected hard LOCKUP on cpu 2\n"
    "[   88.100010] Modules linked in: locky(O) ext4\n"
    "[   88.100020] CPU: 2 PID: 0 Comm: swapper/2 Tainted: G           O       6.1.0-56-amd64 #1  Debian "
    "6.1.192-2\n"
    "[   88.100030] RIP: 0010:native_queued_spin_lock_slowpath+0x5c/0x1d0\n"
    "[   88.100040] Call Trace:\n"
    "[   88.100050]  <IRQ>\n"
    "[   88.100060]  _raw_spin_lock+0x25/0x30\n"
    "[   88.100070]  bad_timer_fn+0x15/0x30 [locky]\n"
    "[   88.100080]  call_timer_fn+0x27/0x130\n"
    "[   88.100130]  sysvec_apic_timer_interrupt+0x9b/0xc0\n"
    "[   88.100140]  </IRQ>\n"
    "[   88.100150]  <TASK>\n"
    "[   88.100160]  asm_sysvec_apic_timer_interrupt+0x16/0x20\n"
    "[   88.100170] RIP: 0010:default_idle+0xb/0x10\n"
    "[   88.100180] Code: 07 76 e7 48 83 c4 08 5b 5d c3 cc cc cc cc 0f 1f 44 00 00 eb 07 0f 00 2d\n"
    "[   88.100190] RSP: 0018:ffffb2a5c00a3ea0 EFLAGS: 00000246\n"
    "[   88.100210]  default_idle_call+0x38/0xf0\n"
    "[   88.100220]  do_idle+0x210/0x290\n"
    "[   88.100230]  cpu_startup_entry+0x19/0x20\n"
    "[   88.100260]  </TASK>\n"
    "[   88.100270] Kernel panic - not syncing: Hard LOCKUP\n";

}  // namespace

TEST_CASE("report: sysrq-c panic", "[report]") {
  LogFacts f = analyse_log(kSysrq);
  REQUIRE(f.kind == CrashKind::sysrq);
  REQUIRE(crash_kind_description(f.kind) == "sysrq triggered crash");
  REQUIRE(f.reason == "sysrq triggered crash");
  REQUIRE(f.panic_message == "sysrq triggered crash");
  REQUIRE(f.first_report.empty());
  REQUIRE(f.version_line.rfind("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)", 0) == 0);
  REQUIRE(f.version_line.find("(2026-11-16)") == f.version_line.size() - 12);
  REQUIRE(f.uptime_usec == u64{3725412391});
  REQUIRE(format_uptime(*f.uptime_usec) == "3725.412391 s (1:02:05)");
  REQUIRE(f.cpu == 2);
  REQUIRE(f.pid == 4321);
  REQUIRE(f.comm == "bash");
  REQUIRE(f.tainted == true);
  REQUIRE(f.taint_letters == "GE");
  REQUIRE(reliable(f) == Names{"dump_stack_lvl", "panic", "sysrq_handle_crash", "__handle_sysrq.cold",
                               "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ksys_write",
                               "do_syscall_64", "entry_SYSCALL_64_after_hwframe"});
  REQUIRE(unreliable(f) == Names{"_printk", "exit_to_user_mode_prepare"});
  REQUIRE(f.trace[3].offset == "0x16/0x20");
  REQUIRE(f.trace[3].context == "TASK");
  REQUIRE(f.trace[3].module.empty());
  // No kernel-mode RIP is printed for a panic(); the syscall's user-mode one is, marked so.
  REQUIRE(f.rip == "0033:0x7f2a7c0f6f33");
  REQUIRE(f.rip_user);
  REQUIRE_FALSE(f.log_truncated);
}

TEST_CASE("report: NULL pointer dereference with panic_on_oops", "[report]") {
  LogFacts f = analyse_log(kNullDeref);
  REQUIRE(f.kind == CrashKind::null_deref);
  REQUIRE(crash_kind_id(f.kind) == "null_pointer_dereference");
  REQUIRE(f.reason == "Fatal exception");
  REQUIRE(f.first_report == "BUG: kernel NULL pointer dereference, address: 0000000000000008");
  REQUIRE(f.uptime_usec == u64{312405400});  // the panic line's
  REQUIRE(f.cpu == 3);
  REQUIRE(f.pid == 2047);
  REQUIRE(f.comm == "insmod");
  REQUIRE(f.taint_letters == "GOE");
  REQUIRE(f.rip == "0010:crashme_init+0x15/0x1000 [crashme]");
  REQUIRE_FALSE(f.rip_user);
  REQUIRE(reliable(f) == Names{"do_one_initcall", "do_init_module", "__do_sys_finit_module", "do_syscall_64",
                               "entry_SYSCALL_64_after_hwframe"});
  REQUIRE(unreliable(f) ==
          Names{"__die_body.cold", "page_fault_oops", "exc_page_fault", "asm_exc_page_fault", "crashme_init"});
  REQUIRE(f.trace[4].module == "crashme");
  REQUIRE(f.trace[4].offset == "0x15/0x1000");
  REQUIRE(f.version_line.empty());  // the excerpt has no boot banner

  std::vector<TaintFlag> t = decode_taint(f.taint_letters);
  REQUIRE(t.size() == 3);
  REQUIRE(t[0].letter == 'G');
  REQUIRE(t[1].letter == 'O');
  REQUIRE(t[1].meaning == "an out-of-tree module was loaded");
  REQUIRE(t[2].meaning == "an unsigned module was loaded");
}

TEST_CASE("report: soft lockup with softlockup_panic", "[report]") {
  LogFacts f = analyse_log(kSoftLockup);
  REQUIRE(f.kind == CrashKind::soft_lockup);
  REQUIRE(f.reason == "softlockup: hung tasks");
  REQUIRE(f.first_report == "watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [spinner:733]");
  REQUIRE(f.uptime_usec == u64{140221220});
  // The lockup report's own task line and trace (where the task was stuck), not the panic's
  // (the watchdog's timer interrupt); its taint is from before L was added.
  REQUIRE(f.cpu == 1);
  REQUIRE(f.pid == 733);
  REQUIRE(f.comm == "spinner");
  REQUIRE(f.taint_letters == "GOE");
  REQUIRE(f.rip == "0010:spin_forever+0x12/0x20 [spinmod]");
  REQUIRE(reliable(f) == Names{"spinner_thread", "kthread", "ret_from_fork"});
  REQUIRE(unreliable(f) == Names{"spin_forever", "kthread_complete_and_exit"});
  REQUIRE(f.trace[0].module == "spinmod");
}

TEST_CASE("report: BUG() with the oops made fatal", "[report]") {
  LogFacts f = analyse_log(kBug);
  REQUIRE(f.kind == CrashKind::bug);
  REQUIRE(crash_kind_description(f.kind) == "BUG");
  REQUIRE(f.reason == "Fatal exception");
  REQUIRE(f.first_report == "kernel BUG at drivers/misc/lkdtm/bugs.c:76!");
  REQUIRE(f.uptime_usec == u64{57881400});
  REQUIRE(f.cpu == 0);
  REQUIRE(f.pid == 811);
  REQUIRE(f.comm == "bash");
  REQUIRE(f.taint_letters == "GW");
  REQUIRE(decode_taint("GW")[1].meaning == "the kernel printed a warning");
  REQUIRE(f.rip == "0010:lkdtm_BUG+0x5/0x10 [lkdtm]");
  REQUIRE(reliable(f) == Names{"lkdtm_do_action", "direct_entry.cold", "full_proxy_write", "vfs_write",
                               "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"});
  REQUIRE(unreliable(f) == Names{"do_sys_openat2"});
}

TEST_CASE("report: hard lockup; a trace goes on across an interrupt's register dump", "[report]") {
  LogFacts f = analyse_log(kHardLockup);
  REQUIRE(f.kind == CrashKind::hard_lockup);
  REQUIRE(f.reason == "Hard LOCKUP");
  REQUIRE(f.first_report == "watchdog: Watchdog detected hard LOCKUP on cpu 2");
  REQUIRE(f.cpu == 2);
  REQUIRE(f.pid == 0);
  REQUIRE(f.comm == "swapper/2");
  REQUIRE(f.rip == "0010:native_queued_spin_lock_slowpath+0x5c/0x1d0");
  REQUIRE(reliable(f) == Names{"_raw_spin_lock", "bad_timer_fn", "call_timer_fn", "sysvec_apic_timer_interrupt",
                               "asm_sysvec_apic_timer_interrupt", "default_idle_call", "do_idle",
                               "cpu_startup_entry"});
  REQUIRE(f.trace[0].context == "IRQ");
  REQUIRE(f.trace[4].context == "TASK");
  REQUIRE(f.trace[7].context == "TASK");
}

TEST_CASE("report: older forms (sysrq through an oops, no panic, plain dmesg)", "[report]") {
  // Before Linux 4.x sysrq-c wrote through NULL; the oops says why it happened.
  LogFacts old = analyse_log(
      "[  100.000001] SysRq : Trigger a crash\n"
      "[  100.000002] BUG: unable to handle kernel NULL pointer dereference at           (null)\n"
      "[  100.000003] IP: [<ffffffff813e2b16>] sysrq_handle_crash+0x16/0x20\n"
      "[  100.000004] Oops: 0002 [#1] SMP\n"
      "[  100.000005] CPU: 0 PID: 1 Comm: bash Not tainted 3.10.0-1160.el7.x86_64 #1\n"
      "[  100.000006] Call Trace:\n"
      "[  100.000007]  [<ffffffff813e3372>] __handle_sysrq+0xa2/0x170\n"
      "[  100.000008]  [<ffffffff813e37e8>] write_sysrq_trigger+0x28/0x40\n"
      "[  100.000009]  [<ffffffff8105c1e0>] ? kmem_cache_alloc+0x1e0/0x200\n"
      "[  100.000010] Code: eb 9b 45 01 f4 45 39 65 34 75 e5 4d 85 ed 74 e0\n"
      "[  100.000011] Kernel panic - not syncing: Fatal exception\n");
  REQUIRE(old.kind == CrashKind::sysrq);
  REQUIRE(old.first_report == "BUG: unable to handle kernel NULL pointer dereference at           (null)");
  REQUIRE(old.tainted == false);
  REQUIRE(old.taint_letters.empty());
  REQUIRE(reliable(old) == Names{"__handle_sysrq", "write_sysrq_trigger"});
  REQUIRE(unreliable(old) == Names{"kmem_cache_alloc"});

  // No panic line (a dump taken after an oops): the report line is the reason.
  LogFacts gpf = analyse_log(
      "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] "
      "PREEMPT SMP NOPTI\n"
      "CPU: 5 PID: 77 Comm: kworker/5:1 Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2\n");
  REQUIRE(gpf.kind == CrashKind::oops);
  REQUIRE(gpf.reason == gpf.first_report);
  REQUIRE(gpf.reason.rfind("general protection fault, probably", 0) == 0);
  REQUIRE(gpf.cpu == 5);
  REQUIRE(gpf.comm == "kworker/5:1");
  REQUIRE_FALSE(gpf.uptime_usec);  // no timestamps in plain text
  REQUIRE(gpf.trace.empty());

  // A direct panic() keeps its own kind even after an unrelated, earlier BUG.
  LogFacts direct = analyse_log(
      "[    1.000000] BUG: scheduling while atomic: swapper/0/1/0x00000002\n"
      "[    2.000000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n"
      "[    2.000001] CPU: 0 PID: 1 Comm: swapper/0 Tainted: G        W          6.1.0 #1\n");
  REQUIRE(direct.kind == CrashKind::panic);
  REQUIRE(direct.reason == "VFS: Unable to mount root fs on unknown-block(0,0)");
  REQUIRE(direct.first_report == "BUG: scheduling while atomic: swapper/0/1/0x00000002");
  REQUIRE(direct.comm == "swapper/0");
  REQUIRE(direct.taint_letters == "GW");

  // A trap that x86 die() names without "Oops: " before Linux 6.9.
  LogFacts div = analyse_log(
      "[   10.000000] divide error: 0000 [#1] PREEMPT SMP NOPTI\n"
      "[   10.000001] CPU: 1 PID: 300 Comm: modprobe Tainted: G           O       6.1.0 #1\n"
      "[   10.000002] RIP: 0010:divzero_init+0x12/0x1000 [divzero]\n"
      "[   10.000003] Kernel panic - not syncing: Fatal exception\n");
  REQUIRE(div.kind == CrashKind::oops);
  REQUIRE(div.first_report == "divide error: 0000 [#1] PREEMPT SMP NOPTI");
  REQUIRE(div.rip == "0010:divzero_init+0x12/0x1000 [divzero]");
  REQUIRE(div.pid == 300);

  LogFacts none = analyse_log("[    0.000000] Linux version 6.1.0 (x@y) #1 SMP\n[    1.0] hello\n");
  REQUIRE(none.kind == CrashKind::unknown);
  REQUIRE(none.reason.empty());
  REQUIRE(none.version_line == "Linux version 6.1.0 (x@y) #1 SMP");
  REQUIRE_FALSE(none.cpu);
}

TEST_CASE("report: a long log is analysed by its tail only", "[report]") {
  std::string log = "[    0.000000] Linux version 6.1.0-56-amd64 (b@h) #1\n";
  std::string filler = "[    1.000000] " + std::string(200, 'x') + "\n";
  while (log.size() < kReportLogBytes + 4096) log += filler;
  log += kSysrq;
  LogFacts f = analyse_log(log);
  REQUIRE(f.log_truncated);
  REQUIRE(f.version_line == "Linux version 6.1.0-56-amd64 (b@h) #1");  // the head is still searched
  REQUIRE(f.kind == CrashKind::sysrq);
  REQUIRE(f.pid == 4321);
}

TEST_CASE("report: NT_PRSTATUS pids and the cross-check", "[report]") {
  std::vector<std::byte> notes = prstatus_notes({0, 0, 4321, 0});
  Result<std::vector<i32>> pids = prstatus_pids(notes);
  REQUIRE(pids);
  REQUIRE(*pids == std::vector<i32>{0, 0, 4321, 0});

  Result<Vmcoreinfo> vi = Vmcoreinfo::parse("OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nCRASHTIME=1795436419\n");
  REQUIRE(vi);
  ReportInputs in;
  in.log = kSysrq;
  in.vmcoreinfo = &*vi;
  in.notes = notes;
  in.vmcore.path = "/proc/vmcore";
  in.vmcore.page_size = 4096;
  in.vmcore.present_pages = 262144;
  in.vmcore.nr_cpus = 4;
  in.vmcore.arch = "x86_64";
  Report r = build_report(in);
  REQUIRE(r.release == "6.1.0-56-amd64");
  REQUIRE(r.crash_time == 1795436419);
  REQUIRE(format_utc(*r.crash_time) == "2026-11-23 12:20:19 UTC");
  REQUIRE(r.cpus_naming_pid == std::vector<int>{2});
  REQUIRE(r.problems.empty());

  std::string text = format_report_text(r);
  REQUIRE(text.find("  kind           sysrq triggered crash\n") != std::string::npos);
  REQUIRE(text.find("  task           PID 4321 (bash)\n") != std::string::npos);
  REQUIRE(text.find("  NT_PRSTATUS    PID 4321 on CPU 2: agrees with the log\n") != std::string::npos);
  REQUIRE(text.find("  E  an unsigned module was loaded\n") != std::string::npos);
  REQUIRE(text.find("  ? _printk+0x68/0x83\n") != std::string::npos);
  REQUIRE(text.find("  RAM            1024.0 MiB in 262144 pages of 4096 bytes, 4 CPUs (x86_64)\n") !=
          std::string::npos);

  std::string json = format_report_json(r);
  REQUIRE(json.find("\"kind\": \"sysrq\"") != std::string::npos);
  REQUIRE(json.find("\"crash_time_utc\": \"2026-11-23T12:20:19Z\"") != std::string::npos);
  REQUIRE(json.find("\"uptime_seconds\": 3725.412391") != std::string::npos);
  REQUIRE(json.find("\"agrees_with_log\": true") != std::string::npos);
  REQUIRE(json.find("\"dump\": null") != std::string::npos);
  REQUIRE(json.back() == '\n');

  // The notes name the pid on another CPU than the log: said, not hidden.
  std::vector<std::byte> other = prstatus_notes({4321, 0, 0, 0});
  in.notes = other;
  Report d = build_report(in);
  REQUIRE(d.cpus_naming_pid == std::vector<int>{0});
  REQUIRE(format_report_text(d).find("PID 4321 on CPU 0, not on CPU 2 as the log says") != std::string::npos);
  REQUIRE(format_report_json(d).find("\"agrees_with_log\": false") != std::string::npos);

  // A note too short for pr_pid is damage, named; the rest of the report stands.
  std::vector<std::byte> bad;
  add_note(bad, "CORE", kNtPrstatus, std::vector<std::byte>(20));
  REQUIRE_FALSE(prstatus_pids(bad));
  REQUIRE(prstatus_pids(bad).error().msg.rfind("NT_PRSTATUS note 0: truncated", 0) == 0);
  in.notes = bad;
  in.log = {};
  in.log_error = "vmcoreinfo: missing SYMBOL(prb)";
  Report gaps = build_report(in);
  REQUIRE(gaps.problems == std::vector<std::string>{"kernel log: vmcoreinfo: missing SYMBOL(prb)",
                                                    "NT_PRSTATUS note 0: truncated at offset 0x14 (need 48 bytes, have 20)"});
}

TEST_CASE("report: the dump's statistics", "[report]") {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse("OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n");
  REQUIRE(vi);
  std::vector<std::byte> notes = prstatus_notes({1});
  ReportInputs in;
  in.log = kSysrq;
  in.vmcoreinfo = &*vi;
  in.notes = notes;
  DumpSummary d;
  d.path = "/var/crash/vmcore";
  d.codec = CodecKind::lzo;
  d.dump_level = 31;
  d.stats.max_pfn = 131034;
  d.stats.present_pages = 98168;
  d.stats.excluded[PageClass::zero] = 6152;
  d.stats.excluded[PageClass::free] = 31510;
  d.stats.file_size = 24324648;
  d.stats.classified = true;
  in.dump = d;
  Report r = build_report(in);
  REQUIRE_FALSE(r.crash_time);
  std::string text = format_report_text(r);
  REQUIRE(text.find("  filter         -d 31, kdump-compressed, lzo\n") != std::string::npos);
  REQUIRE(text.find("  kept           60506 pages\n") != std::string::npos);
  REQUIRE(text.find("  excl. free     31510 pages\n") != std::string::npos);
  std::string json = format_report_json(r);
  REQUIRE(json.find("\"pages_kept\": 60506") != std::string::npos);
  REQUIRE(json.find("\"codec\": \"lzo\"") != std::string::npos);
  REQUIRE(json.find("\"crash_time\": null") != std::string::npos);
  // pid 1 is on CPU 0 in the notes; the log says CPU 2.
  REQUIRE(json.find("\"agrees_with_log\": false") != std::string::npos);
}

TEST_CASE("report: JSON strings are escaped and always valid UTF-8", "[report]") {
  REQUIRE(json_quote("plain") == "\"plain\"");
  REQUIRE(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  REQUIRE(json_quote("l1\nl2\tx\r") == "\"l1\\nl2\\tx\\r\"");
  REQUIRE(json_quote(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\\u007f\"");
  REQUIRE(json_quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  REQUIRE(json_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5\"");
  // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  REQUIRE(json_quote("\x80") == "\"\\u0080\"");
  REQUIRE(json_quote("x\xe2\x82") == "\"x\\u00e2\\u0082\"");
  REQUIRE(json_quote("\xc0\xaf") == "\"\\u00c0\\u00af\"");
  REQUIRE(json_quote("\xed\xa0\x80") == "\"\\u00ed\\u00a0\\u0080\"");
}

TEST_CASE("report: uptime, dates and file names", "[report]") {
  REQUIRE(format_uptime(0) == "0.000000 s (0:00:00)");
  REQUIRE(format_uptime(4567013) == "4.567013 s (0:00:04)");
  REQUIRE(format_uptime(u64{90061} * 1000000 + 5) == "90061.000005 s (25:01:01)");
  REQUIRE(format_utc(0) == "1970-01-01 00:00:00 UTC");
  REQUIRE(report_paths("/var/crash/report.txt") ==
          std::pair<std::string, std::string>{"/var/crash/report.txt", "/var/crash/report.json"});
  REQUIRE(report_paths("triage") == std::pair<std::string, std::string>{"triage", "triage.json"});
  REQUIRE(report_paths("/var/crash/triage.json") ==
          std::pair<std::string, std::string>{"", "/var/crash/triage.json"});
}

// Issue 18: the report quotes the crashed kernel's log, vmcoreinfo and file names; a compromised
// kernel could plant terminal escapes there (clear the screen, rewrite lines above, set the
// window title). The text report escapes every control byte; the JSON escapes them as \u00XX.
TEST_CASE("report: control bytes from the dump are escaped in the text report", "[report]") {
  const std::string evil = "\x1b[2J\x1b]0;owned\x07\x9b" "31m\r";
  const std::string shown = "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x0d";
  std::string log =
      "[    1.000000] Linux version 6.1.0 " + evil + "\n"
      "[    2.000000] CPU: 1 PID: 77 Comm: x" + evil + " Not tainted 6.1.0 #1\n"
      "[    3.000000] Kernel panic - not syncing: boom" + evil + "\n";
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse("OSRELEASE=6.1.0" + evil + "\nPAGESIZE=4096\n");
  REQUIRE(vi);
  ReportInputs in;
  in.log = log;
  in.log_error = "";
  in.vmcoreinfo = &*vi;
  in.vmcore.path = "/var/crash/vm" + evil;
  in.vmcore.arch = "x86_64" + evil;
  Report r = build_report(in);
  r.problems.push_back("no notes: " + evil);
  std::string text = format_report_text(r);
  INFO(text);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    CHECK((u == '\n' || (u >= 0x20 && u < 0x7f)));
  }
  CHECK(text.find("boom\\x1b[2J\\x1b]0;owned\\x07\\x9b31m") != std::string::npos);  // \r trimmed
  CHECK(text.find("6.1.0" + shown) != std::string::npos);
  CHECK(text.find("/var/crash/vm" + shown) != std::string::npos);
  CHECK(text.find("  - no notes: " + shown + "\n") != std::string::npos);
}

TEST_CASE("escape_for_terminal: control bytes out, printable UTF-8 kept", "[report]") {
  CHECK(escape_for_terminal("plain text, 100% ok") == "plain text, 100% ok");
  CHECK(escape_for_terminal(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_for_terminal("\t\n\r\x1b\x7f") == "\\x09\\x0a\\x0d\\x1b\\x7f");
  CHECK(escape_for_terminal("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5");
  // C1 controls, raw (0x9b: CSI on 8-bit terminals) and UTF-8 encoded (U+009B), and bytes that
  // are not UTF-8 at all.
  CHECK(escape_for_terminal("\x9b\xc2\x9b\xc2\xa0") == "\\x9b\\xc2\\x9b\xc2\xa0");
  CHECK(escape_for_terminal("\xc0\xaf\xed\xa0\x80x\xe2\x82") == "\\xc0\\xaf\\xed\\xa0\\x80x\\xe2\\x82");
  std::string once = escape_for_terminal("\x1b[0m\x9b");
  CHECK(escape_for_terminal(once) == once);
  CHECK(escape_lines_for_terminal("a\x1b\nb\r\n\nc") == "a\\x1b\nb\\x0d\n\nc");
  CHECK(escape_lines_for_terminal("x\n") == "x\n");
}
