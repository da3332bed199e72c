#!/usr/bin/env bash
# e2e/build-sshd-image.sh — build the local test image ssh-ecs-run-task/sshd:test WITHOUT any
# registry: no FROM, a root filesystem assembled from this host and `docker import`ed.
#
# It carries the SAME files as the published reference image (images/sshd/Dockerfile):
# images/sshd/entrypoint.sh, images/sshd/ecs-task-session and images/sshd/sshd_config, with the
# host's OpenSSH sshd (plus every shared library `ldd` lists) and busybox-static as the shell
# and tools instead of Debian's packages.
#
# SSHD_TEST_SHELL=dash builds ssh-ecs-run-task/sshd:test-dash instead, where /bin/sh (the shell of
# the entrypoint, of the session wrapper and of root) is the host's dash, as in the Debian image;
# busybox still provides the other tools.
#
# Idempotent and quick: the image carries a label with the sha256 of all its inputs; when the
# existing image has the same, nothing is done. FORCE=1 rebuilds anyway. Prints the image name.
#
# Needs: root (file ownership in the tar must be root), docker, /usr/sbin/sshd (openssh-server),
# /bin/busybox (busybox-static; installed with apt-get when missing).
set -euo pipefail

SHELL_VARIANT=${SSHD_TEST_SHELL:-busybox}
case $SHELL_VARIANT in
busybox) IMAGE=${SSHD_TEST_IMAGE:-ssh-ecs-run-task/sshd:test} ;;
dash) IMAGE=${SSHD_TEST_IMAGE:-ssh-ecs-run-task/sshd:test-dash} ;;
*) echo "build-sshd-image: SSHD_TEST_SHELL must be busybox or dash" >&2; exit 1 ;;
esac
LABEL=ssh-ecs-run-task.sshd-test.inputs
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../images/sshd" && pwd)
SSHD=/usr/sbin/sshd
BUSYBOX=/bin/busybox

say() { printf 'build-sshd-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
[ -x "$SSHD" ] || die "$SSHD is missing (apt-get install openssh-server)"
if ! "$BUSYBOX" --list 2>/dev/null | grep -qx sh; then
	say "installing busybox-static"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2 ||
		die "cannot install busybox-static"
fi
"$BUSYBOX" --list | grep -qx sh || die "$BUSYBOX is not a usable busybox"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked; install busybox-static"

SFTP_SERVER=/usr/lib/openssh/sftp-server
bins=("$SSHD")
[ -x "$SFTP_SERVER" ] && bins+=("$SFTP_SERVER")
if [ "$SHELL_VARIANT" = dash ]; then
	[ -x /usr/bin/dash ] || die "/usr/bin/dash is missing"
	bins+=(/usr/bin/dash)
fi

# Every shared library the binaries need (absolute paths, the dynamic loader included), plus the
# NSS files module when there is one (glibc >= 2.34 has it built into libc; harmless to add).
libs() {
	local b
	for b in "$@"; do
		ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	done
	ls /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/*-linux-gnu*/libnss_files.so.2 2>/dev/null || true
}
mapfile -t shlibs < <(libs "${bins[@]}" | sort -u)

# --- up to date? -------------------------------------------------------------------------------
inputs=("$0" "$src/entrypoint.sh" "$src/ecs-task-session" "$src/sshd_config" "$BUSYBOX" "${bins[@]}" "${shlibs[@]}")
sum=$( { echo "$SHELL_VARIANT"; for f in "${inputs[@]}"; do printf '%s\n' "$f"; cat "$(readlink -f "$f")"; done; } | sha256sum | cut -c1-64)
if [ -z "${FORCE:-}" ] && [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)" = "$sum" ]; then
	say "$IMAGE is up to date"
	echo "$IMAGE"
	exit 0
fi

# --- root filesystem ---------------------------------------------------------------------------
rootfs=$(mktemp -d /tmp/sshd-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
cd "$rootfs"
umask 022
# Merged-/usr layout like Debian 12, so that library paths from ldd (/lib/..., /lib64/...,
# /usr/lib/...) all land in the right place.
mkdir -p usr/bin usr/sbin usr/lib usr/lib64 usr/local/bin usr/local/libexec usr/lib/openssh \
	etc/ssh etc/profile.d run/sshd tmp root var/empty proc sys dev
ln -s usr/bin bin
ln -s usr/sbin sbin
ln -s usr/lib lib
ln -s usr/lib64 lib64
mkdir -p var/log
touch var/log/lastlog var/log/wtmp var/log/btmp run/utmp # as in Debian: sshd records logins
chmod 1777 tmp
chmod 0700 root
chmod 0755 run/sshd

copy() { # copy FILE to the same path in the rootfs, following symlinks
	mkdir -p "./$(dirname "$1")"
	cp -L "$1" "./$1"
}
for f in "${bins[@]}" "${shlibs[@]}"; do copy "$f"; done

cp "$BUSYBOX" usr/bin/busybox
for a in $(usr/bin/busybox --list); do
	[ -e "usr/bin/$a" ] || [ -e "usr/sbin/$a" ] || ln -s busybox "usr/bin/$a"
done

if [ "$SHELL_VARIANT" = dash ]; then
	ln -sf dash usr/bin/sh
fi

cat >etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
# "*": no password at all (never matches) and not "!"-locked, which sshd without PAM would
# treat as a locked account and refuse even with a key.
cat >etc/shadow <<'S'
root:*:19000:0:99999:7:::
sshd:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
S
chmod 0640 etc/shadow
printf 'passwd: files\ngroup: files\nshadow: files\n' >etc/nsswitch.conf
cat >etc/profile <<'PR'
# /etc/profile of the ssh-ecs-run-task sshd test image (busybox ash login shells).
for i in /etc/profile.d/*.sh; do
	[ -r "$i" ] && . "$i"
done
unset i
PR

install -m 0644 "$src/sshd_config" etc/ssh/sshd_config
install -m 0755 "$src/entrypoint.sh" entrypoint.sh
install -m 0755 "$src/ecs-task-session" usr/local/libexec/ecs-task-session

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
	docker import \
		--change 'ENTRYPOINT ["/entrypoint.sh"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'EXPOSE 22' \
		--change "LABEL $LABEL=$sum" \
		- "$IMAGE" >/dev/null
say "built $IMAGE"
echo "$IMAGE"
