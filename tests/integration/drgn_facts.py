#!/usr/bin/python3
"""drgn_facts.py DUMP VMLINUX: what drgn reads from a dump, on one line for the shell tests:
RELEASE TID COMM sysrq|no-sysrq ONLINE_CPUS (sysrq: sysrq_handle_crash is on the crashed stack).
Run it with Debian's /usr/bin/python3 (drgn is its module) and without MALLOC_PERTURB_ (lib.sh)."""
import sys

import drgn
from drgn.helpers.linux.cpumask import for_each_online_cpu

prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
release = prog["init_uts_ns"].name.release.string_().decode()
thread = prog.crashed_thread()
comm = thread.object.comm.string_().decode()
frames = " ".join(f.name or "?" for f in thread.stack_trace())
online = len(list(for_each_online_cpu(prog)))
print(release, thread.tid, comm, "sysrq" if "sysrq_handle_crash" in frames else "no-sysrq", online)
