"""Networks: records and IPAM (store, ipam), the kernel side (netlink, firewall), the files a
container sees (hostsfile) and the entry points containers call (api)."""
