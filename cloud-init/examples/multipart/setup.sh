#!/bin/sh
# A per-instance script part: runs once, like cloud-init's scripts-user.
echo "worker-7 script part ran" > /var/lib/worker-setup
