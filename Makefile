# ssh-ecs-run-task — `make help` lists the targets.
BIN      := bin/ssh-ecs-run-task
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Exported so that build, test, vet and cross share one compile cache entry per platform.
export GOFLAGS := -trimpath -buildvcs=false
export CGO_ENABLED := 0

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PLATFORMS   := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: help build test unit lint cross demo e2e-setup fuzz bench clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## build bin/ssh-ecs-run-task (static, version stamped)
	go build -ldflags '$(LDFLAGS)' -o $(BIN) .

test: build ## unit and end-to-end tests (the one command CI and users run)
	go test -count=1 ./...

unit: ## unit tests only (no sshd, docker or emulator needed)
	go test -count=1 $$(go list ./... | grep -v /e2e)

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	go vet ./...
	GOOS=windows go vet ./...
	go run $(STATICCHECK) ./...

cross: ## build for linux, darwin and windows on amd64 and arm64 into dist/
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch go build -ldflags '$(LDFLAGS)' -o dist/ssh-ecs-run-task-$$os-$$arch$$ext . || exit 1; \
	done

e2e-setup: ## install and start the real parts of the e2e bed (sshd, dockerd, test image, users); needs root
	bash e2e/setup.sh

demo: build ## a local cluster (emulator + sshd + Docker engine) and a shell in its task, no AWS needed
	@go build -o bin/ssh-ecs-demo ./e2e/cmd/demo
	@./bin/ssh-ecs-demo

fuzz: ## run every fuzz target for FUZZTIME (default 60s) each
	bash e2e/fuzz.sh $${FUZZTIME:-60s}

bench: build ## benchmarks side by side with OpenSSH on the e2e bed (see docs/PERFORMANCE.md)
	go run ./bench

clean: ## remove build output
	rm -rf bin dist

include mk/windows.mk
