#!/bin/sh
# dracut cmdline hook of the capture initramfs (sourced): in the capture kernel, the
# initqueue waits for the dump target's device as it waits for root= (dracut waits for the
# root itself), so the pre-mount hook that saves the dump finds it. module-setup.sh wrote
# the device, as kdump.conf names it (/dev/..., UUID=..., LABEL=...), to /etc/kdumpkit-device.
if [ -e /proc/vmcore ] && [ -s /etc/kdumpkit-device ]; then
    read -r kdumpkit_dev </etc/kdumpkit-device
    wait_for_dev "$(label_uuid_to_dev "$kdumpkit_dev")"
fi
