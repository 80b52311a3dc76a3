#!/usr/bin/python3
"""drgn_facts.py DUMP VMLINUX: what drgn reads from a dump, on one line for the shell tests:
RELEASE TID COMM sysrq|no-sysrq ONLINE_CPUS (sysrq: sysrq_handle_crash is on the crashed stack).
Run it with Debian's /usr/bin/python3 (drgn is its module) and without MALLOC_PERTURB_ (lib.sh).

drgn_facts.py --all DUMP VMLINUX: everything an analysis reads, one fact a line, for comparing a
filtered dump with the full /proc/vmcore it came from (the kernel matrix tests): the crashed
thread and its stack, every task (count and comms), every slab cache with its slabs read whole
(every page of every slab folio: a tail page a dumper lost as user data faults here), the loaded
modules, the mounts and a digest of the kernel log. A fact drgn cannot read prints as
"FAULT <fact>: <error>" (never skipped), so the caller sees it and the comparison fails.
Needs a drgn with the mm, slab, module and fs helpers (unstable's 0.3.0; Debian 12's 0.0.22 lacks
some: then the missing helper prints as FAULT too)."""
import hashlib
import sys

import drgn


def one_line(prog):
    from drgn.helpers.linux.cpumask import for_each_online_cpu
    release = prog["init_uts_ns"].name.release.string_().decode()
    thread = prog.crashed_thread()
    comm = thread.object.comm.string_().decode()
    frames = " ".join(f.name or "?" for f in thread.stack_trace())
    online = len(list(for_each_online_cpu(prog)))
    print(release, thread.tid, comm, "sysrq" if "sysrq_handle_crash" in frames else "no-sysrq", online)


def crashed(prog):
    thread = prog.crashed_thread()
    yield f"crashed {thread.tid} {thread.object.comm.string_().decode()}"
    yield "stack " + " ".join(f.name or "?" for f in thread.stack_trace())


def tasks(prog):
    from drgn.helpers.linux.pid import for_each_task
    comms = sorted(t.comm.string_().decode() for t in for_each_task(prog))
    yield f"tasks {len(comms)}"
    yield "comms " + " ".join(comms)


def slabs(prog):
    """Per cache: its slabs and objects, found from struct page (vmemmap), each slab read whole."""
    from drgn.helpers.linux.mm import PageSlab, PageTail, compound_order, for_each_page, page_to_virt
    from drgn.helpers.linux.slab import for_each_slab_cache
    names = sorted(c.name.string_().decode() for c in for_each_slab_cache(prog))
    yield f"slab_caches {len(names)}"
    yield "slab_names " + " ".join(names)
    page_size = prog["PAGE_SIZE"].value_() if "PAGE_SIZE" in prog else 4096
    per = {}
    for page in for_each_page(prog):
        try:
            if not PageSlab(page) or PageTail(page):
                continue
        except drgn.FaultError:
            continue  # a hole in the memory map: no page there, in the full core either
        slab = drgn.cast("struct slab *", page)
        name = slab.slab_cache.name.string_().decode()
        n, objs, size = per.get(name, (0, 0, 0))
        nbytes = page_size << compound_order(page).value_()
        prog.read(page_to_virt(page).value_(), nbytes)  # FaultError: slab memory lost
        per[name] = (n + 1, objs + slab.objects.value_(), size + nbytes)
    for name in sorted(per):
        n, objs, size = per[name]
        yield f"slab {name} slabs {n} objects {objs} bytes {size}"


def modules(prog):
    from drgn.helpers.linux.module import for_each_module
    yield "modules " + " ".join(sorted(m.name.string_().decode() for m in for_each_module(prog)))


def mounts(prog):
    from drgn.helpers.linux.fs import for_each_mount, mount_dst, mount_fstype, mount_src
    rows = sorted(f"{mount_src(m).decode()} {mount_dst(m).decode()} {mount_fstype(m).decode()}"
                  for m in for_each_mount(prog))
    yield f"mounts {len(rows)}"
    for r in rows:
        yield "mount " + r


def kernel_log(prog):
    from drgn.helpers.linux.printk import get_dmesg
    log = get_dmesg(prog)
    yield f"dmesg {len(log)} bytes sha256 {hashlib.sha256(log).hexdigest()}"
    lines = [ln for ln in log.decode(errors="replace").splitlines() if "Trigger a crash" in ln]
    yield "dmesg_sysrq " + (lines[-1].split("] ", 1)[-1] if lines else "none")


def all_facts(prog):
    for fact in (crashed, tasks, slabs, modules, mounts, kernel_log):
        try:
            for line in fact(prog):
                print(line)
        except (drgn.FaultError, drgn.ObjectAbsentError, LookupError, ImportError, ValueError) as e:
            print(f"FAULT {fact.__name__}: {type(e).__name__}: {e}")


def main(argv):
    full = argv[1:2] == ["--all"]
    dump, vmlinux = argv[2:4] if full else argv[1:3]
    prog = drgn.Program()
    prog.set_core_dump(dump)
    prog.load_debug_info([vmlinux])
    if full:
        print("release", prog["init_uts_ns"].name.release.string_().decode())
        all_facts(prog)
    else:
        one_line(prog)


if __name__ == "__main__":
    main(sys.argv)
