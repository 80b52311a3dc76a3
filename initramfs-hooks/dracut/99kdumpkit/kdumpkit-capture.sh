#!/bin/sh
# dracut pre-mount hook of the capture initramfs: in the capture kernel save the dump with
# `kdumpctl save` (which ends with final_action); elsewhere do nothing. dracut's hook services
# send stdout to the journal only and stderr also to the console: kdumpctl's lines (what was
# saved where, or why not) go to stderr, so the console shows them as with initramfs-tools.
if [ -e /proc/vmcore ]; then
    /usr/sbin/kdumpctl save 1>&2
    echo "kdumpkit: kdumpctl save returned; rebooting" >&2
    reboot -f
fi
