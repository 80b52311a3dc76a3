#!/bin/bash
# dracut module of the capture initramfs (`dracut --add kdumpkit`, run by kdumpctl rebuild):
# kdumpctl, dumpfilter, /etc/kdump.conf and what the target needs (kdumpctl hook-info), and
# a pre-mount hook that runs `kdumpctl save` in the capture kernel, once the initqueue has
# found root= and the dump target's device (cmdline hook kdumpkit-wait.sh).

# Only when asked for: this module turns an initramfs into a capture initramfs.
check() { return 255; }

# ssh and nfs targets need dracut's network (ip= on the capture command line).
depends() {
    if kdumpkit_info | grep -q '^bin ssh$\|^module nfs$'; then echo base network; else echo base; fi
}

kdumpkit_info() {
    "${KDUMPKIT_KDUMPCTL:-$(command -v kdumpctl)}" --conf "${KDUMPKIT_CONF:-/etc/kdump.conf}" hook-info
}

installkernel() {
    local mods
    mods=$(kdumpkit_info | awk '$1 == "module" { print $2 }')
    # shellcheck disable=SC2086  # one word per module
    [ -n "$mods" ] && hostonly='' instmods $mods
    return 0
}

install() {
    local kind what dep mods=''
    inst_binary "${KDUMPKIT_KDUMPCTL:-$(command -v kdumpctl)}" /usr/sbin/kdumpctl
    inst_simple "${KDUMPKIT_CONF:-/etc/kdump.conf}" /etc/kdump.conf
    while read -r kind what; do
        case $kind in
            module) mods=${mods:+$mods,}$what ;;
            bin)
                if [ "$what" = dumpfilter ]; then
                    inst_binary "${KDUMPKIT_DUMPFILTER:-$(command -v dumpfilter)}" /usr/sbin/dumpfilter
                else
                    inst_binary "$what"
                fi
                ;;
            lib)  # opened with dlopen, so no ldd of dumpfilter lists it; and dracut-install
                  # resolves only executables' libraries (a 0644 .so gets none), so: its own.
                inst_library "$what"
                for dep in $(ldd "$what" | awk '$3 ~ /^\// { print $3 }'); do inst_library "$dep"; done
                ;;
            file)  # a missing file (the ssh target's known_hosts above all) is no image at all
                [[ -f $what ]] || { derror "kdumpkit: no file $what"; return 1; }
                inst_simple "$what"
                ;;
        esac
    done < <(kdumpkit_info)
    # Loaded early by dracut's base module, before the pre-mount hook looks for the target.
    [ -n "$mods" ] && printf 'rd.driver.pre=%s\n' "$mods" >"${initdir}/etc/cmdline.d/50kdumpkit.conf"
    # ssh (the client) needs a passwd entry for the user it runs as.
    if kdumpkit_info | grep -q '^bin ssh$' && ! grep -q '^root:' "${initdir}/etc/passwd" 2>/dev/null; then
        echo 'root:x:0:0:root:/root:/bin/sh' >>"${initdir}/etc/passwd"
    fi
    # A dump target on its own device (ext4/xfs/raw line): the initqueue waits for it.
    awk '$1 ~ /^(ext[234]|xfs|raw)$/ { print $2; exit }' "${KDUMPKIT_CONF:-/etc/kdump.conf}" \
        >"${initdir}/etc/kdumpkit-device"
    inst_hook cmdline 90 "$moddir/kdumpkit-wait.sh"
    # pre-mount: after the initqueue found root= and the target, before root is mounted.
    inst_hook pre-mount 01 "$moddir/kdumpkit-capture.sh"
}
