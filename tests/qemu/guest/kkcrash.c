// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kkcrash.c: a test-only kernel module that crashes the kernel it is loaded into, one way per
 * "action" parameter, so that kexec-boot.sh --crash-kind can give the capture kernel (and
 * dumpfilter --report) crashes other than sysrq-c. Debian does not ship lkdtm; this is our own,
 * built against Debian's linux-headers by kexec-boot.sh. Everything happens in module init, in
 * the insmod task, so the report names "insmod".
 *
 *   insmod kkcrash.ko action=null        write through a NULL pointer (page fault at 0: Oops)
 *   insmod kkcrash.ko action=bug         BUG() (invalid opcode: Oops)
 *   insmod kkcrash.ko action=oops        write to a non-canonical address (general protection)
 *   insmod kkcrash.ko action=panic       panic() directly
 *   insmod kkcrash.ko action=softlockup  spin with preemption off until the soft-lockup
 *                                        watchdog fires (at most 60 s, then give up)
 *
 * An Oops only panics (and so only starts the capture kernel) with kernel.panic_on_oops=1, a soft
 * lockup with kernel.softlockup_panic=1: the guest's /init sets those sysctls first.
 */
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/string.h>

static char *action = "";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "null, bug, oops, panic or softlockup");

/* volatile: the compiler must really load the pointer and store through it. */
static int *volatile kkcrash_null_ptr;
static unsigned long volatile kkcrash_bad_addr = 0xdead000000000100UL;

static int __init kkcrash_init(void)
{
	unsigned int ms;

	pr_info("kkcrash: action=%s\n", action);
	if (!strcmp(action, "null")) {
		*kkcrash_null_ptr = 1;
	} else if (!strcmp(action, "bug")) {
		BUG();
	} else if (!strcmp(action, "oops")) {
		*(int *volatile)kkcrash_bad_addr = 1;
	} else if (!strcmp(action, "panic")) {
		panic("kkcrash: panic requested");
	} else if (!strcmp(action, "softlockup")) {
		preempt_disable();
		for (ms = 0; ms < 60000; ms++)
			mdelay(1);
		preempt_enable();
		pr_err("kkcrash: no soft lockup was detected in 60 s\n");
		return -ETIME;
	} else {
		pr_err("kkcrash: unknown action '%s'\n", action);
		return -EINVAL;
	}
	pr_err("kkcrash: still alive after action=%s\n", action);
	return -EIO;
}

static void __exit kkcrash_exit(void)
{
}

module_init(kkcrash_init);
module_exit(kkcrash_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdumpkit test module: crash the kernel on purpose");
