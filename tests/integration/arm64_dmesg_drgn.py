#!/usr/bin/python3
"""arm64_dmesg_drgn.py VMCORE VMLINUX: the kernel log as drgn reads it from the printk ring
buffer, in the form makedumpfile's --dump-dmesg writes when the kernel records callers
("[%5lu.%06lu] [%8s] text", the caller T<tid> or C<cpu>). The reference for our --dump-dmesg on
Debian's arm64 6.12 and 7.x, which no makedumpfile reads (arm64_page_oracle.py says why)."""
import sys

import drgn
from drgn.helpers.linux.printk import get_printk_records


def main(argv):
    prog = drgn.Program()
    prog.set_core_dump(argv[1])
    prog.load_debug_info([argv[2]])
    out = sys.stdout.buffer
    for r in get_printk_records(prog):
        caller = f"T{r.caller_tid}" if r.caller_tid is not None else f"C{r.caller_cpu}"
        sec, nsec = divmod(r.timestamp, 1_000_000_000)
        out.write(f"[{sec:5d}.{nsec // 1000:06d}] [{caller:>8}] ".encode() + r.text + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
