#!/usr/bin/env bash
# Print where a bench keeps Berth's engine root: the same medium bench/run.sh gives docker's and
# podman's stores (tmpfs when /dev/shm has room, else /var/tmp), so the engines are compared on
# one kind of filesystem.
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 8000000 ] 2>/dev/null; then
  echo /dev/shm
else
  echo /var/tmp
fi
