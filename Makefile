# labrun's build. `make` builds bin/labrun and bin/labrun-k8s (the upstream
# control plane: kube-apiserver, kube-controller-manager, kube-scheduler and
# etcd in one binary, several minutes on 2 cores the first time: see the README). `make demo`
# replays the demo deck against the built-in cluster, so it needs
# bin/labrun-k8s (built first, the same several minutes on a fresh clone);
# `make test` runs the whole test suite, which needs it too. Both build what
# they need, including bin/kubectl from the pinned upstream module when the
# machine has no kubectl.

GO       ?= go
BIN      := $(CURDIR)/bin
KUBECTL_VERSION := v1.32.4
# The kubectl runs and tests use: the host's if it has one, else ours.
HOST_KUBECTL := $(shell command -v kubectl 2>/dev/null)
NEED_KUBECTL := $(if $(HOST_KUBECTL),,$(BIN)/kubectl)
# Tests find bin/kubectl after the host's own.
TEST_ENV := PATH="$$PATH:$(BIN)"

.PHONY: all build controlplane demo test test-short vet lint fmt kubectl bench bench-cluster fuzz clean

all: build controlplane

build: $(BIN)/labrun

# Built from a git checkout, labrun records its commit, which `labrun
# version` and the JSON report show, even when GOFLAGS says -buildvcs=false.
# Go's own stamping misses git worktrees (.git is a file there), so the
# commit also goes in through -X; outside git (a tarball) both stay empty
# and labrun says it has no commit.
BUILDVCS   := $(if $(wildcard .git),true,false)
GIT_COMMIT := $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null && echo $$c || echo $$c+dirty; })
# Every package of labrun's own module, new ones included (tools/ holds
# modules of their own).
LABRUN_SRC := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './tools/*' -not -path './tmp/*' -not -path './.git/*' -not -path './bin/*')
$(BIN)/labrun: $(LABRUN_SRC) go.mod go.sum
	$(GO) build -buildvcs=$(BUILDVCS) -ldflags "-X main.ldCommit=$(GIT_COMMIT)" -o $@ ./cmd/labrun

# kubectl built from k8s.io/kubectl at a pinned version (tools/kubectl has
# its own go.mod so labrun's dependencies stay small).
kubectl: $(BIN)/kubectl
$(BIN)/kubectl: tools/kubectl/main.go tools/kubectl/go.mod tools/kubectl/go.sum
	cd tools/kubectl && $(GO) build -trimpath -ldflags "-s -w \
		-X k8s.io/component-base/version.gitVersion=$(KUBECTL_VERSION) \
		-X k8s.io/component-base/version.gitMajor=1 \
		-X k8s.io/component-base/version.gitMinor=32 \
		-X k8s.io/client-go/pkg/version.gitVersion=$(KUBECTL_VERSION) \
		-X k8s.io/client-go/pkg/version.gitMajor=1 \
		-X k8s.io/client-go/pkg/version.gitMinor=32" -o $@ .

# The control plane's version is the k8s.io/kubernetes that
# tools/controlplane/go.mod requires: one place says it. Stamped into the
# binary so that `kubectl version` shows the server as that version.
K8S_VERSION = $(shell cd tools/controlplane && $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes)
k8s_vparts = $(subst ., ,$(patsubst v%,%,$(K8S_VERSION)))
CONTROLPLANE_LDFLAGS = -s -w \
	-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(k8s_vparts)) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(k8s_vparts)) \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=$(word 1,$(k8s_vparts)) \
	-X k8s.io/client-go/pkg/version.gitMinor=$(word 2,$(k8s_vparts))

# Rebuilt only when tools/controlplane changes (its own go.mod pins the
# upstream modules; labrun's go.mod never requires k8s.io/kubernetes).
controlplane: $(BIN)/labrun-k8s
$(BIN)/labrun-k8s: $(wildcard tools/controlplane/*.go) tools/controlplane/go.mod tools/controlplane/go.sum
	cd tools/controlplane && $(GO) build -trimpath -ldflags "$(CONTROLPLANE_LDFLAGS)" -o $@ .

# The default cluster is the built-in one: labrun finds bin/labrun-k8s
# beside itself.
demo: $(BIN)/labrun $(NEED_KUBECTL) $(BIN)/labrun-k8s
	$(BIN)/labrun run fixtures/demo/pingpong.md

vet:
	$(GO) vet ./...

# What CI enforces besides the tests: go.mod says what the code imports,
# gofmt, vet, and staticcheck at a pinned version (fetched through the
# module proxy on first use).
STATICCHECK_VERSION := v0.8.2
lint: vet
	$(GO) mod tidy -diff
	cd tools/kubectl && $(GO) mod tidy -diff
	cd tools/controlplane && $(GO) mod tidy -diff
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt would change: $$bad" >&2; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The tests run the real control plane: cluster/upstream's, and one
# built-in cluster per test binary for the packages that replay labs.
test: vet $(NEED_KUBECTL) $(BIN)/labrun-k8s
	$(TEST_ENV) $(GO) test -race -count=1 -timeout 20m ./...

test-short:
	$(TEST_ENV) $(GO) test -short ./...

bench: $(NEED_KUBECTL) $(BIN)/labrun-k8s
	$(TEST_ENV) $(GO) test -run '^$$' -bench . -count 6 ./...

# The built-in cluster's figures (README): start to ready, pod to Ready and
# idle memory (three each per run), a 1,000-replica Deployment (one per
# run); six runs of each, to compare with benchstat.
bench-cluster: $(NEED_KUBECTL) $(BIN)/labrun-k8s
	$(TEST_ENV) $(GO) test -run '^$$' -bench 'ClusterReady|PodReady|IdleRSS' -benchtime 3x -count 6 -timeout 30m ./cluster/builtin/
	$(TEST_ENV) $(GO) test -run '^$$' -bench 'Deployment1000' -benchtime 1x -count 6 -timeout 60m ./cluster/builtin/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseChapter -fuzztime 10m ./parser

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
