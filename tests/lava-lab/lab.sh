#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/lava-lab/lab.sh - a throw-away LAVA lab: Debian bookworm's lava-server
# 2023.01 with PostgreSQL 15, the API on gunicorn, lava-publisher,
# lava-scheduler, a lava-worker driving the local dispatcher and one qemu
# device, started and stopped without systemd, as root, in a fresh minimal
# root (tests/e2e/lava-lab.t runs it in one made by .ci/clean-root). Never
# on a machine of your own: it installs a database and a web service.
#
#   lab.sh install        apt-get what it needs (idempotent)
#   lab.sh start          install if needed, start everything; prints the
#                         lavacli identity, the URL and the device
#   lab.sh stop           stop every daemon `start` started
#   lab.sh status         what runs
#   lab.sh device-dict F  the device's dictionary from file F (health Good again)
#   lab.sh serve DIR      start, write DIR/ready (identity, url, token, device),
#                         wait for DIR/stop, stop: for a test outside the root
#
# Environment (all optional):
#   LAVA_LAB_PORT     web/API port on 127.0.0.1 (default 8000)
#   LAVA_LAB_PUBPORT  lava-publisher (websocket) port (default 8001)
#   LAVA_LAB_EVENTPORT lava-publisher's ZMQ event port (default 5500)
#   LAVA_LAB_ID       lavacli identity name (default lava-lab)
#   LAVA_LAB_DEVICE   device name (default qemu01)
#   LAVA_LAB_DEVICE_DICT  a device dictionary to use instead of the default
#                         (a file; it must extend qemu.jinja2)
#   LAVA_LAB_PACKAGES extra packages to install (e.g. qemu-system-arm)
#
# Facts it relies on (lava-server 2023.01): its postinst skips the database
# when PostgreSQL is not running, and /usr/share/lava-server/postinst.py does
# that part later; without EVENT_NOTIFICATION a job waits for the
# scheduler's 20 s poll; lava-publisher must run as lavaserver (gunicorn
# connects to its ipc socket); a device dictionary's connection tags must be
# a non-empty list (an empty one renders as null and the device goes Bad).
set -eu

PORT=${LAVA_LAB_PORT:-8000}
PUBPORT=${LAVA_LAB_PUBPORT:-8001}
EVENTPORT=${LAVA_LAB_EVENTPORT:-5500}
ID=${LAVA_LAB_ID:-lava-lab}
DEVICE=${LAVA_LAB_DEVICE:-qemu01}
WORKER=lava-lab-worker
ADMIN=admin
STATE=/var/lib/lava-lab	# pid files, worker dir, token
LOGS=/var/log/lava-lab
URL=http://127.0.0.1:$PORT
PG=15

say() { printf 'lava-lab: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

PACKAGES="lava-server lava-dispatcher lavacli postgresql"

do_install() {
	local missing=
	for p in $PACKAGES ${LAVA_LAB_PACKAGES:-}; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] ||
		apt-get update -q
	# services are not started by the packages (policy-rc.d / no systemd);
	# lava-server's postinst then skips the database ("PostgreSQL is not
	# running"): `start` does that part (postinst.py) once postgres runs.
	apt-get install -y -q --no-install-recommends $missing
}

manage() { lava-server manage "$@"; }

pidfile() { echo "$STATE/$1.pid"; }
running() { # running NAME: its pid file names a live process
	local p
	p=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null
}
spawn() { # spawn NAME COMMAND...: in the background, own session, pid file
	running "$1" && { say "$1 already runs"; return 0; }
	local name=$1; shift
	setsid "$@" </dev/null >>"$LOGS/$name.out" 2>&1 &
	echo $! >"$(pidfile "$name")"
}
wait_for() { # wait_for SECONDS WHAT COMMAND...
	local n=$1 what=$2; shift 2
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	die "timed out waiting for $what"
}

do_start() {
	local t0=$SECONDS
	[ "$(id -u)" = 0 ] || die "needs root"
	do_install
	mkdir -p "$STATE" "$LOGS"
	chown lavaserver:lavaserver "$LOGS"
	touch "$LOGS/lava-publisher.log" "$LOGS/gunicorn.log"
	chown lavaserver:lavaserver "$LOGS/lava-publisher.log" "$LOGS/gunicorn.log"

	# 1. PostgreSQL (cluster 15/main made by postgresql-15's postinst)
	pg_lsclusters -h | grep -q "^$PG main" || pg_createcluster $PG main
	pg_ctlcluster $PG main status >/dev/null 2>&1 || pg_ctlcluster $PG main start
	wait_for 30 postgres pg_isready -q

	# 2. the database: what lava-server's postinst skipped without a running
	#    postgres (role + db + settings.d/00-database.yaml + migrate)
	if [ ! -e /etc/lava-server/settings.d/00-database.yaml ]; then
		python3 /usr/share/lava-server/postinst.py >"$LOGS/postinst.log" 2>&1 ||
			{ tail -20 "$LOGS/postinst.log" >&2; die "postinst.py failed"; }
	else
		runuser -u lavaserver -- lava-server manage migrate --noinput >"$LOGS/migrate.log" 2>&1 ||
			{ tail -20 "$LOGS/migrate.log" >&2; die "migrate failed"; }
	fi

	# events: on submission the scheduler and (through lava-publisher's
	# websocket) the worker wake up at once instead of polling every 20 s
	cat >/etc/lava-server/settings.d/01-lava-lab.yaml <<-EOF
	EVENT_NOTIFICATION: true
	EVENT_SOCKET: "tcp://127.0.0.1:$EVENTPORT"
	EOF
	chown lavaserver:lavaserver /etc/lava-server/settings.d/01-lava-lab.yaml

	# 3. objects: admin user + API token, device type, worker, device
	if ! manage users details "$ADMIN" >/dev/null 2>&1; then
		manage users add "$ADMIN" --superuser --staff --passwd "$ADMIN" >/dev/null
	fi
	if [ ! -s "$STATE/admin-token" ]; then
		od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$STATE/admin-token"
		manage tokens add --user "$ADMIN" --description lava-lab \
			--secret "$(cat "$STATE/admin-token")" >/dev/null
	fi
	manage device-types details qemu >/dev/null 2>&1 || manage device-types add qemu
	if [ ! -s "$STATE/worker-token" ]; then
		manage workers add "$WORKER" --description "lava-lab local worker" |
			sed -n 's/^Token: //p' >"$STATE/worker-token"
	fi
	local dict=/etc/lava-server/dispatcher-config/devices/$DEVICE.jinja2
	if [ -n "${LAVA_LAB_DEVICE_DICT:-}" ]; then
		cp "$LAVA_LAB_DEVICE_DICT" "$dict"
	elif [ ! -e "$dict" ]; then
		# no_kvm: KVM is not usable under nested virtualisation here
		cat >"$dict" <<-'EOF'
		{% extends 'qemu.jinja2' %}
		{% set mac_addr = '52:54:00:12:34:59' %}
		{% set memory = 1024 %}
		{% set no_kvm = True %}
		EOF
	fi
	chown lavaserver:lavaserver "$dict"
	if manage devices details "$DEVICE" >/dev/null 2>&1; then
		# an invalid dictionary made it Bad on an earlier run: Good again
		manage devices update --health GOOD "$DEVICE"
	else
		manage devices add --device-type qemu --worker "$WORKER" "$DEVICE"
	fi

	# 4. daemons
	spawn gunicorn gunicorn3 lava_server.wsgi --bind 127.0.0.1:$PORT \
		-u lavaserver -g lavaserver --worker-class eventlet --workers 2 \
		--log-level INFO --log-file "$LOGS/gunicorn.log"
	# as lavaserver: gunicorn (lavaserver) must be able to connect to its
	# ipc:///tmp/lava.events socket
	spawn publisher runuser -u lavaserver -- lava-server manage lava-publisher --level DEBUG \
		--log-file "$LOGS/lava-publisher.log" --host 127.0.0.1 --port "$PUBPORT"
	spawn scheduler lava-server manage lava-scheduler --level DEBUG \
		--log-file "$LOGS/lava-scheduler.log" --event-url "tcp://127.0.0.1:$EVENTPORT"
	wait_for 60 "the API on $URL" python3 -c "import urllib.request as u; u.urlopen('$URL/api/v0.2/system/version/', timeout=5)"
	for d in gunicorn publisher scheduler; do
		running $d || { tail -20 "$LOGS/$d.out" >&2; die "$d died (see $LOGS/$d.out)"; }
	done
	spawn worker lava-worker --level DEBUG --name "$WORKER" --url "$URL/" \
		--ws-url "http://127.0.0.1:$PUBPORT/ws/" --ping-interval 5 \
		--token-file "$STATE/worker-token" --worker-dir "$STATE/worker" \
		--log-file "$LOGS/lava-worker.log"
	wait_for 60 "worker $WORKER online" sh -c \
		"lava-server manage workers details $WORKER | grep -q 'state *: Online'"

	# 5. lavacli
	lavacli identities add --uri "$URL/RPC2" --username "$ADMIN" \
		--token "$(cat "$STATE/admin-token")" "$ID"
	lavacli -i "$ID" system version >/dev/null || die "lavacli cannot reach $URL"
	say "started in $((SECONDS - t0)) s"
	echo "identity=$ID"
	echo "url=$URL"
	echo "device=$DEVICE"
}

stop_one() { # stop_one NAME: TERM its session, then KILL after 20 s
	local p
	p=$(cat "$(pidfile "$1")" 2>/dev/null) || return 0
	if kill -0 "$p" 2>/dev/null; then
		kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p"
		for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$p" 2>/dev/null && { say "$1 did not stop: KILL"; kill -KILL -- -"$p" 2>/dev/null; }
	fi
	rm -f "$(pidfile "$1")"
}

do_stop() {
	# the worker first (it ends a running lava-run and its qemu), then the rest
	for d in worker scheduler publisher gunicorn; do stop_one $d; done
	if pg_ctlcluster $PG main status >/dev/null 2>&1; then
		pg_ctlcluster $PG main stop -m fast
	fi
	say stopped
}

do_device_dict() {
	[ -f "${1:-}" ] || die "usage: lab.sh device-dict FILE"
	local dict=/etc/lava-server/dispatcher-config/devices/$DEVICE.jinja2
	cp "$1" "$dict"
	chown lavaserver:lavaserver "$dict"
	manage devices update --health GOOD "$DEVICE"
}

do_status() {
	for d in gunicorn publisher scheduler worker; do
		if running $d; then echo "$d: running ($(cat "$(pidfile $d)"))"; else echo "$d: stopped"; fi
	done
	pg_lsclusters 2>/dev/null || true
}

# serve DIR: start, say so in DIR/ready, wait for DIR/stop, stop
do_serve() {
	local dir=${1:-}
	[ -d "$dir" ] || die "usage: lab.sh serve DIR"
	trap do_stop EXIT
	do_start >"$dir/ready.tmp"
	echo "token=$(cat "$STATE/admin-token")" >>"$dir/ready.tmp"
	mv "$dir/ready.tmp" "$dir/ready"
	while [ ! -e "$dir/stop" ]; do sleep 1; done
}

case "${1:-}" in
serve) do_serve "${2:-}" ;;
install) do_install ;;
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
device-dict) do_device_dict "${2:-}" ;;
*) echo "usage: $0 install|start|stop|status|device-dict FILE|serve DIR" >&2; exit 2 ;;
esac
