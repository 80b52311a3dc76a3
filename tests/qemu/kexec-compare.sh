#!/bin/bash
# kexec-compare.sh: our kexec and Debian's kexec-tools in exactly the same machine. Debian's 6.1
# kernel boots in QEMU (TCG) with nokaslr (so two boots lay memory out alike), prints the facts
# a loader reads, times `kexec -p` loads of both loaders (-c and -s), loads the capture kernel
# with --loader's kexec -c and panics; the capture kernel prints the start of /proc/vmcore.
#
# usage: kexec-compare.sh --loader ours|debian|kernel [--mem 512M] [--cpus 1] [--crashkernel 128M]
#                         [--efi] [--time N] [--facts DIR] [--out DIR] [--kexec PATH]
#                         [--timeout S]
#   --loader       who loads the capture kernel that runs (required): ours (kexec -c -p),
#                  debian (kexec-tools -c -p: its header, map and purgatory) or kernel
#                  (kexec-tools -s -p: kexec_file_load, the running kernel builds them)
#   --time N       N timing rounds: each round loads (and unloads) with ours -c, ours -s,
#                  Debian's -c and -s (default 0)
#   --facts DIR    write the machine facts there, one file each (iomem, memmap, crash_notes,
#                  vmcoreinfo, cmdline, kcore_head.hex, boot_params.hex, and with --efi
#                  efi_systab, efi_tables, efi_runtime_map), and what the capture kernel
#                  got in capture-LOADER/: phdrs (as OUT/phdrs), e820 ("start end type"),
#                  cmdline
#   --efi          boot the first kernel through OVMF ($KK_OVMF or /usr/share/ovmf/OVMF.fd)
#   --kexec        our kexec binary (default: $KEXEC or BUILD/kexec/kexec)
# Writes into OUT: console.log, phdrs (the capture's program headers: one line each, "type
# p_paddr p_vaddr p_filesz p_memsz p_flags", offsets left out: the capture kernel assigns them),
# loadtimes ("who option milliseconds" lines). Prints OUT on stdout. Exit status 0 when the
# capture kernel printed its /proc/vmcore header and it decodes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo=$(cd "$KK_LIB_DIR/../.." && pwd)
build=${KDUMPKIT_BUILD:-$repo/build}
loader='' mem=512M cpus=1 crashkernel=128M efi=0 rounds=0 facts='' out='' timeout=''
kexec_bin=${KEXEC:-$build/kexec/kexec}
while (($#)); do
    case $1 in
        --loader) loader=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --crashkernel) crashkernel=$2; shift 2 ;;
        --efi) efi=1; shift ;;
        --time) rounds=$2; shift 2 ;;
        --facts) facts=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --kexec) kexec_bin=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done
case $loader in ours | debian | kernel) ;; *) kk_die "--loader ours|debian|kernel is required" ;; esac
[[ $rounds =~ ^[0-9]+$ ]] || kk_die "--time takes a number"
[[ -x $kexec_bin ]] || kk_die "no kexec binary at $kexec_bin (ninja -C build, or --kexec)"
[[ -x /usr/sbin/kexec ]] || kk_die "Debian's kexec-tools is not installed (/usr/sbin/kexec)"
case $mem in *G) mem_mib=$((${mem%G} * 1024)) ;; *M) mem_mib=${mem%M} ;; *) mem_mib=$mem ;; esac
timeout=${timeout:-$((150 + rounds * 40 + mem_mib / 40))}

kk_fetch_kernel
if [[ -z $out ]]; then
    mkdir -p "$KK_CACHE/kexec-compare"
    out=$(mktemp -d "$KK_CACHE/kexec-compare/$loader.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,stamps,phdrs,loadtimes}

init=$KK_LIB_DIR/guest/init-compare.sh
mkdir -p "$KK_CACHE/initramfs"
kk_build_initramfs "$KK_CACHE/initramfs/compare-capture.cpio.gz" "$init" mod:efivarfs
capture_img=$KK_LAST_INITRAMFS
mapfile -t items < <(kk_binary_items "$kexec_bin" /usr/sbin/kexec)
((${#items[@]})) || kk_die "kk_binary_items $kexec_bin failed"
# Debian's kexec beside ours, under another name, with the libraries it links.
items+=("/usr/sbin/kexec=/usr/sbin/kexec-tools")
while read -r lib; do items+=("$lib=$lib"); done < <(ldd /usr/sbin/kexec | awk '/=> \// { print $3 } /^\t\// { print $1 }')
kk_build_initramfs "$KK_CACHE/initramfs/compare-first.cpio.gz" "$init" "${items[@]}" \
    "$KK_VMLINUZ=/boot/vmlinuz" "$capture_img=/boot/capture.img"
first_img=$KK_LAST_INITRAMFS

work=$(mktemp -d "$KK_CACHE/work/kexec-compare.XXXXXX" 2>/dev/null ||
    { mkdir -p "$KK_CACHE/work" && mktemp -d "$KK_CACHE/work/kexec-compare.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
qemu_extra=()
if [[ $efi == 1 ]]; then
    ovmf=${KK_OVMF:-/usr/share/ovmf/OVMF.fd}
    [[ -r $ovmf ]] || kk_die "--efi needs UEFI firmware at $ovmf"
    cp "$ovmf" "$work/OVMF.fd"
    qemu_extra+=(-drive "if=pflash,format=raw,file=$work/OVMF.fd")
fi
append="console=ttyS0 crashkernel=$crashkernel panic=1 nokaslr kk.loader=$loader kk.time=$rounds"
[[ -n $facts ]] && append+=" kk.facts=1"
log=$out/console.log
kk_log "booting ($loader loads): $mem RAM, $cpus vCPU$([[ $efi == 1 ]] && echo ", UEFI"), crashkernel=$crashkernel, timeout ${timeout}s"
rc=0
kk_qemu_boot -k "$KK_VMLINUZ" -i "$first_img" -a "$append" -m "$mem" -c "$cpus" -t "$timeout" \
    -l "$log" -s "$out/stamps" -- "${qemu_extra[@]}" || rc=$?
grep -h 'KK_FAIL\|KK_WARN' "$log" >&2 || true

sed -n 's/^KK_LOADTIME //p' "$log" >"$out/loadtimes"
if [[ -n $facts ]]; then
    mkdir -p "$facts"
    awk -v dir="$facts" '
        /^KK_FACT_BEGIN / { name = $2; file = dir "/" name; printf "" > file; next }
        /^KK_FACT_END /   { close(file); name = ""; next }
        name != "" && substr($0, 1, 9) == "KK_FACT| " { print substr($0, 10) >> file }
    ' "$log"
fi
head=$(sed -n 's/^KK_VMCORE_HEAD //p' "$log" | head -n1)
[[ -n $head ]] || { tail -n 30 "$log" >&2; kk_die "no KK_VMCORE_HEAD: the capture kernel did not run (QEMU status $rc); console: $log"; }
/usr/bin/python3 - "$head" >"$out/phdrs" <<'PYEOF'
import struct, sys
b = bytes.fromhex(sys.argv[1])
if b[:4] != b"\x7fELF" or b[4] != 2:
    sys.exit("not an ELF64 header")
phoff, = struct.unpack_from("<Q", b, 0x20)
phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
if phentsize != 56 or phoff + phnum * 56 > len(b):
    sys.exit(f"program headers do not fit the {len(b)} bytes printed")
names = {1: "LOAD", 4: "NOTE"}
for i in range(phnum):
    t, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", b, phoff + i * 56)
    print(f"{names.get(t, hex(t))} {paddr:#x} {vaddr:#x} {filesz:#x} {memsz:#x} {flags:#x}")
PYEOF
if [[ -n $facts ]]; then
    # What the capture kernel got after --loader's load, in capture-LOADER/: its /proc/vmcore
    # program headers (phdrs), its e820 map as it printed it (e820: "BIOS-e820: [mem A-B] ACPI
    # data" -> "A B ACPI_data") and its command line (cmdline: elfcorehdr= is there).
    got=$facts/capture-$loader
    mkdir -p "$got"
    cp "$out/phdrs" "$got/phdrs"
    awk '/sysrq: Trigger a crash/ { c = 1 } c' "$log" >"$work/capture.log"
    sed -n 's/.*BIOS-e820: \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\] \(.*\)$/\1 \2 \3/p' "$work/capture.log" |
        awk '{ t = $3; for (i = 4; i <= NF; i++) t = t "_" $i; print $1, $2, t }' >"$got/e820"
    sed -n 's/.*\] Command line: //p' "$work/capture.log" | head -n1 >"$got/cmdline"
fi
printf '%s\n' "$out"
