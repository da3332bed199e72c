# mk/windows.mk — Windows tests under wine (Debian 12, wine 8.0). Included by the Makefile.
# `make test-windows` sets up wine (windows/setup-wine.sh), runs the Windows unit tests as Windows
# binaries through windows/wine-exec.sh, then the Windows end-to-end hook. See windows/README.md.

WINDOWS_WINE_EXEC  := $(CURDIR)/windows/wine-exec.sh
WINDOWS_TEST_FLAGS ?= -count=1

# Packages whose tests pass under wine. Not yet: ./sshsession/ (t.TempDir cleanup — use
# winetest.TempDir; "/" vs "\" in expected paths; its agent tests listen on AF_UNIX, which wine
# lacks) and ./ecs/ (t.TempDir cleanup). Add a package once
# `GOOS=windows go test -exec windows/wine-exec.sh ./pkg/` passes.
WINDOWS_TEST_PKGS ?= ./cliargs/ ./shellquote/ ./sudo/ ./dockercmd/ ./windows/winetest/

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

# Hook for the end-to-end smoke of the built .exe under wine: empty until the product binary and
# e2e/windows exist; then e.g.
#   WINDOWS_E2E = go test -count=1 ./e2e/windows/...
WINDOWS_E2E ?=

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
