#!/usr/bin/env bash
# e2e/setup.sh — prepare this machine for the end-to-end tests of ssh-ecs-run-task.
#
# Installs and starts the real parts the tests drive: OpenSSH (sshd is started per test by
# e2e/bed, never here), a Docker engine, the test users `ecsrun` (docker group) and `ecssudo`
# (docker only through sudo), the test image registry.example.com:5000/web:{1.6.0,2.0.0,1.5.0}
# built from busybox without any registry, and the host directories the fixtures mount.
#
# Run as root on Debian 12 (used by .ci/run and `make e2e-setup`). Idempotent: every step checks
# first and does nothing when its result is already there. No network traffic except apt-get,
# and only when a package is missing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

IMAGE_REPO=registry.example.com:5000/web
IMAGE_TAGS=(1.6.0 2.0.0 1.5.0)
HOSTDIR=/tmp/ssh-ecs-e2e
DOCKERD_LOG=/var/log/dockerd-e2e.log
SUDOERS=/etc/sudoers.d/ssh-ecs-e2e
PACKAGES=(openssh-server openssh-client docker.io busybox-static sudo tmux procps iproute2)

step() { printf 'e2e-setup: %s\n' "$*"; }
die() { printf 'e2e-setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo e2e/setup.sh)"

# --- 1. packages -------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	step "packages: all present (${PACKAGES[*]})"
else
	step "packages: installing ${missing[*]}"
	# Keep maintainer scripts from starting services (the distribution's sshd on port 22, a
	# second dockerd): a policy-rc.d that says "no" for the duration of the install. An existing
	# policy (e.g. the Docker image's own) is left alone.
	policy=/usr/sbin/policy-rc.d
	own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# ssh-ecs-run-task e2e/setup.sh: no service starts during install\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		own_policy=1
		trap 'rm -f "$policy"' EXIT
	fi
	ssh_was_running=
	if pgrep -x sshd >/dev/null 2>&1; then ssh_was_running=1; fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
	if [ -n "$own_policy" ]; then
		rm -f "$policy"
		trap - EXIT
	fi
	# Belt and braces: if the install started the distribution's sshd anyway, stop it — but only
	# when it was not running before this script.
	if [ -z "$ssh_was_running" ] && [ -f /run/sshd.pid ]; then
		pid=$(cat /run/sshd.pid)
		if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then
			step "packages: stopping the sshd (pid $pid) the install started"
			kill "$pid" || true
		fi
	fi
fi
[ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd missing after install"
# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd
chmod 0755 /run/sshd

# --- 2. Docker engine ---------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
	step "docker: engine already answering"
else
	if pidof systemd >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		step "docker: starting docker.service (systemd)"
		systemctl start docker || true
	fi
fi
if ! docker info >/dev/null 2>&1; then
	command -v dockerd >/dev/null || die "dockerd not found"
	if pgrep -x dockerd >/dev/null 2>&1; then
		step "docker: dockerd already starting, waiting for it"
	else
		step "docker: starting dockerd in the background (log $DOCKERD_LOG)"
		# setsid: the daemon must outlive this script and not get its terminal's signals.
		setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
	fi
	for _ in $(seq 1 60); do
		if docker info >/dev/null 2>&1; then break; fi
		sleep 1
	done
	if ! docker info >/dev/null 2>&1; then
		tail -n 20 "$DOCKERD_LOG" >&2 || true
		die "dockerd did not answer within 60 s (see $DOCKERD_LOG)"
	fi
	step "docker: engine answering"
fi

# --- 3. test users ------------------------------------------------------------------------------
getent group docker >/dev/null || groupadd --system docker
getent group tty >/dev/null || groupadd --system tty
ensure_user() { # name groups
	local name=$1 groups=$2
	if id "$name" >/dev/null 2>&1; then
		usermod -a -G "$groups" "$name"
		step "users: $name exists (groups: $(id -nG "$name"))"
	else
		useradd --create-home --home-dir "/home/$name" --shell /bin/sh --groups "$groups" "$name"
		step "users: created $name (groups: $(id -nG "$name"))"
	fi
	# A locked account ("!" in shadow) is refused by sshd even for public-key logins when UsePAM
	# is off; "*" means "no password" without locking.
	if [ "$(getent shadow "$name" | cut -d: -f2)" != '*' ]; then
		usermod -p '*' "$name"
	fi
}
ensure_user ecsrun docker,tty
ensure_user ecssudo tty
# ecssudo must reach docker only through sudo.
if id -nG ecssudo | tr ' ' '\n' | grep -qx docker; then
	gpasswd -d ecssudo docker >/dev/null
	step "users: removed ecssudo from group docker"
fi

# Every docker client binary sudo may resolve (secure_path puts /usr/local/bin first).
docker_bins=()
for d in /usr/bin/docker /usr/local/bin/docker; do
	[ -x "$d" ] && docker_bins+=("$d")
done
[ "${#docker_bins[@]}" -gt 0 ] || die "no docker client in /usr/bin or /usr/local/bin"
cmnd=$(IFS=,; echo "${docker_bins[*]}" | sed 's/,/, /g')
want="# ssh-ecs-run-task e2e: ecssudo runs docker only through sudo (as root, also with -u root).
ecssudo ALL=(root) NOPASSWD: $cmnd"
if [ -f "$SUDOERS" ] && [ "$(cat "$SUDOERS")" = "$want" ]; then
	step "sudo: $SUDOERS up to date"
else
	tmp=$(mktemp)
	printf '%s\n' "$want" >"$tmp"
	visudo -cq -f "$tmp" || { rm -f "$tmp"; die "generated sudoers file does not parse"; }
	install -m 0440 -o root -g root "$tmp" "$SUDOERS"
	rm -f "$tmp"
	step "sudo: wrote $SUDOERS"
fi

# --- 4. test image ------------------------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
if have_image "$IMAGE_REPO:${IMAGE_TAGS[0]}"; then
	step "image: $IMAGE_REPO:${IMAGE_TAGS[0]} present"
else
	bb=$(command -v busybox || true)
	[ -n "$bb" ] || die "busybox not found"
	rootfs=$(mktemp -d)
	trap 'rm -rf "$rootfs"' EXIT
	mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,home,var}
	cp "$bb" "$rootfs/bin/busybox"
	chmod 0755 "$rootfs/bin/busybox"
	# Applet symlinks, made by busybox itself inside the root filesystem.
	chroot "$rootfs" /bin/busybox --install -s
	# Debian's busybox has no `bash` applet: a wrapper makes `bash -c …` work as `sh -c …`.
	rm -f "$rootfs/bin/bash"
	printf '#!/bin/sh\nexec /bin/sh "$@"\n' >"$rootfs/bin/bash"
	chmod 0755 "$rootfs/bin/bash"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
	chmod 1777 "$rootfs/tmp"
	chmod 0700 "$rootfs/root"
	tar -C "$rootfs" -c . | docker import - "$IMAGE_REPO:${IMAGE_TAGS[0]}" >/dev/null
	rm -rf "$rootfs"
	trap - EXIT
	step "image: built $IMAGE_REPO:${IMAGE_TAGS[0]} from $bb"
fi
for tag in "${IMAGE_TAGS[@]:1}"; do
	if have_image "$IMAGE_REPO:$tag"; then
		step "image: $IMAGE_REPO:$tag present"
	else
		docker tag "$IMAGE_REPO:${IMAGE_TAGS[0]}" "$IMAGE_REPO:$tag"
		step "image: tagged $IMAGE_REPO:$tag"
	fi
done

# --- 5. host directories ------------------------------------------------------------------------
mkdir -p "$HOSTDIR/ro" "$HOSTDIR/rw"
chmod 0755 "$HOSTDIR" "$HOSTDIR/ro"
chmod 1777 "$HOSTDIR/rw"
if [ "$(cat "$HOSTDIR/ro/hello.txt" 2>/dev/null)" != "read-only data" ]; then
	printf 'read-only data\n' >"$HOSTDIR/ro/hello.txt"
fi
chmod 0644 "$HOSTDIR/ro/hello.txt"
step "dirs: $HOSTDIR/ro (hello.txt) and $HOSTDIR/rw (1777)"

# --- 6. verify ----------------------------------------------------------------------------------
out=$(docker run --rm "$IMAGE_REPO:${IMAGE_TAGS[0]}" sh -c 'echo ok' </dev/null)
[ "$out" = ok ] || die "test container printed '$out', want 'ok'"
out=$(docker run --rm "$IMAGE_REPO:${IMAGE_TAGS[0]}" bash -c 'echo ok' </dev/null)
[ "$out" = ok ] || die "bash in the test container printed '$out', want 'ok'"
step "verify: docker run $IMAGE_REPO:${IMAGE_TAGS[0]} sh -c 'echo ok' → ok"
step "done"
