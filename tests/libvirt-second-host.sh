#!/bin/bash
# A second libvirt host on this machine, for the libvirt backend's remote
# URIs: libvirtd (and its virtlogd) in a private mount namespace whose
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
# /var/cache/libvirt are directories under DIR, listening on TCP PORT on
# the loopback without authentication (a test host, nothing else).
#
#   tests/libvirt-second-host.sh start DIR PORT   -> prints qemu+tcp://127.0.0.1:PORT/system
#   tests/libvirt-second-host.sh stop DIR
#
# Needs root (a privileged libvirtd), unshare(1) and Debian's
# libvirt-daemon-system. Its state stays apart from the machine's own
# libvirtd: domains, storage pools and logs live under DIR.
set -eu
cmd=${1:?usage: $0 start DIR PORT | stop DIR}
dir=${2:?usage: $0 start DIR PORT | stop DIR}
case $cmd in
start)
	port=${3:?usage: $0 start DIR PORT}
	dir=$(realpath -m "$dir")
	mkdir -p "$dir"/{etc,run,lib,log,cache}
	[ -d "$dir/etc/qemu" ] || cp -a /etc/libvirt/. "$dir/etc/"
	# no private /dev for QEMU, as teelab's embedded driver: libvirt cannot
	# rebuild /dev in a chroot or container (CI runs in a debootstrap root)
	grep -q '^namespaces' "$dir/etc/qemu.conf" || echo 'namespaces = []' >>"$dir/etc/qemu.conf"
	cat >"$dir/etc/libvirtd.conf" <<EOF
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$port"
auth_tcp = "none"
unix_sock_dir = "/run/libvirt"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
	# the namespace lives as long as its daemons; this shell exits at once
	unshare --mount --propagation private /bin/sh -c '
		d=$1
		mount --bind "$d/etc" /etc/libvirt
		mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
		mount --bind "$d/run" /run/libvirt
		mount --bind "$d/lib" /var/lib/libvirt
		mount --bind "$d/log" /var/log/libvirt
		mount --bind "$d/cache" /var/cache/libvirt
		virtlogd -d -p "$d/virtlogd.pid"
		exec libvirtd -d --listen -p "$d/libvirtd.pid"' _ "$dir"
	uri="qemu+tcp://127.0.0.1:$port/system"
	# its first start probes QEMU's capabilities (about 12 s, more on a
	# loaded machine): up to 2 minutes, done as soon as it answers. Not
	# `virsh version`: libvirt 9.0 answers it only with an emulator for the
	# host's own arch (qemu-system-x86), which teelab does not need.
	for _ in $(seq 1200); do
		virsh -c "$uri" list --all >/dev/null 2>&1 && { echo "$uri"; exit 0; }
		sleep 0.1
	done
	echo "libvirtd did not answer on $uri within 2 minutes" >&2
	exit 1
	;;
stop)
	for p in libvirtd virtlogd; do
		[ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
	done
	;;
*)
	echo "usage: $0 start DIR PORT | stop DIR" >&2
	exit 3
	;;
esac
