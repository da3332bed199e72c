# mk/windows.mk — Windows tests under wine (Debian 12, wine 8.0). Included by the Makefile.
# `make test-windows` sets up wine (windows/setup-wine.sh), runs the Windows unit tests as Windows
# binaries through windows/wine-exec.sh, then the Windows end-to-end hook. See windows/README.md.

WINDOWS_WINE_EXEC  := $(CURDIR)/windows/wine-exec.sh
WINDOWS_TEST_FLAGS ?= -count=1

# Packages whose tests pass under wine (every package with Windows code or tests; ./remotecmd/
# and ./e2e/... are Linux-side: the e2e smoke of the .exe is WINDOWS_E2E below). Inside them,
# tests that need what wine lacks skip themselves with winetest.Skip and say why:
#   sshsession TestAuth/agent, TestAgentForwarding: AF_UNIX agent sockets (winapi error #10047);
#     the named-pipe agent tests (agent_windows_test.go) run instead.
# The Windows console (raw mode, VT modes, the 250 ms resize poller) runs against a fake console
# (sshsession/terminal_windows_test.go): wine has no console without a display.
WINDOWS_TEST_PKGS ?= ./cliargs/ ./shellquote/ ./sudo/ ./dockercmd/ ./sshsession/ ./ecs/ \
	./windows/winetest/ ./windows/pipeagent/

# Tests wine cannot run, one name a line with the reason (top-level names; go test -skip).
# Prefer winetest.Skip(t, why) in the test itself; list a name here only when that is not possible.
#
# shellquote: splits words through /bin/sh; a Windows process cannot start the Linux sh (and
# Go's os/exec on Windows wants an .exe).
WINDOWS_SKIP_NAMES += TestJoinRoundTripThroughSh
# shellquote: the same /bin/sh round trip over the fuzz seed corpus.
WINDOWS_SKIP_NAMES += FuzzJoinRoundTrip

windows_empty :=
windows_space := $(windows_empty) $(windows_empty)
WINDOWS_SKIP ?= ^($(subst $(windows_space),|,$(strip $(WINDOWS_SKIP_NAMES))))$$

# End-to-end smoke of the built .exe under wine against the e2e bed (emulator, real sshd, real
# Docker engine): exit statuses, hostile arguments, task environment, 1 MiB binary stdin,
# --dry-run, Windows paths, a changed host key, an agent on a named pipe, Ctrl-C, no container
# left. Only with SSH_ECS_WINDOWS_E2E=1, so `go test ./...` does not run it next to the Linux e2e
# tests (their leftover-container checks would see its containers); then it skips without wine
# or the bed (e2e/setup.sh), and fails instead under CI=true.
WINDOWS_E2E ?= SSH_ECS_WINDOWS_E2E=1 go test -count=1 ./e2e/windows/

.PHONY: test-windows
test-windows: ## Windows tests under wine (sets wine up first; see windows/README.md)
	bash windows/setup-wine.sh </dev/null
	GOOS=windows GOARCH=amd64 go test $(WINDOWS_TEST_FLAGS) -exec $(WINDOWS_WINE_EXEC) \
		$(WINDOWS_TEST_PKGS) $(if $(strip $(WINDOWS_SKIP_NAMES)),-skip '$(WINDOWS_SKIP)')
ifneq ($(strip $(WINDOWS_E2E)),)
	$(WINDOWS_E2E)
else
	@echo "test-windows: no Windows end-to-end tests yet (WINDOWS_E2E is empty)"
endif
