#!/bin/sh
# dracut pre-mount hook of the capture initramfs: in the capture kernel save the dump with
# `kdumpctl save` (which ends with final_action); elsewhere do nothing.
if [ -e /proc/vmcore ]; then
    /usr/sbin/kdumpctl save
    echo "kdumpkit: kdumpctl save returned; rebooting" >&2
    reboot -f
fi
