# membergraph — the two commands a new user needs are `make run` and `make test`.
GO  ?= go
BIN ?= bin
# VERSION names the build in `membergraph version` and /healthz; outside a git checkout Go's own stamp (or "devel") stands.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null)

.PHONY: build run test fuzz chaos model generate check-generate migration clean

PARTNERS := videovip cobrandcard pointsexchange

## build: the server and every partner plugin into bin/, the plugins trusted in bin/plugins/trusted.json
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/membergraph ./cmd/membergraph
	@mkdir -p $(BIN)/plugins
	@for p in $(PARTNERS); do $(GO) build -o $(BIN)/plugins/$$p ./partners/$$p || exit 1; done
	$(BIN)/membergraph plugins trust --plugin-dir $(BIN)/plugins $(PARTNERS)
	@# The Node.js partner needs node, npm and the npm registry; without them the rest still runs.
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && partners/cafeperks/build.sh $(BIN)/plugins/cafeperks; then \
		$(BIN)/membergraph plugins trust --plugin-dir $(BIN)/plugins cafeperks; \
	else rm -f $(BIN)/plugins/cafeperks; echo "make: the Node.js partner cafeperks is not built (needs node, npm and the npm registry)"; fi

## run: build and serve (SERVE_FLAGS=… passes serve flags) on the embedded SQLite file with the JD-style programme; playground at http://localhost:8080/
run: build
	$(BIN)/membergraph serve $(SERVE_FLAGS)

## test: vet and every test; store tests also run on MySQL when MEMBERGRAPH_TEST_MYSQL_DSN is set
test:
	$(GO) vet ./...
	cd plugins && $(GO) vet ./...
	$(GO) test -count=1 -timeout 18m ./...
	cd plugins && $(GO) test -count=1 -timeout 5m ./...

## fuzz: every fuzz target of both modules, FUZZTIME each (found by go test -list; see .ci/fuzz)
FUZZTIME ?= 5s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) .ci/fuzz

## chaos: the crash tests (kill -9 mid-batch, the database killed under load) CHAOS_SCALE times longer (default 5); needs MEMBERGRAPH_TEST_MYSQL_DSN and mariadbd (docs/reliability.md)
CHAOS_SCALE ?= 5
chaos:
	CHAOS_SCALE=$(CHAOS_SCALE) $(GO) test -count=1 -timeout 30m -v -run 'TestCrashKill9MidBatch|TestDatabaseOutageUnderLoad' ./cmd/membergraph/

## model: the points ledger's model tests at full length (1,000 + 50 sequences, 5 + 2 batch sequences; `make test` runs fewer); MySQL too when MEMBERGRAPH_TEST_MYSQL_DSN is set
model:
	MEMBERGRAPH_TEST_LONG_MODEL=1 $(GO) test -count=1 -timeout 60m -v -run 'TestLedgerModel' ./internal/points/

## generate: ent, gqlgen and the playground assets (needs npm for the assets)
generate:
	$(GO) generate ./...

## check-generate: fail when generated code is not what `go generate ./...` makes
check-generate: generate
	git diff --exit-code
	test -z "$$(git status --porcelain --untracked-files=all)"

## migration NAME=…: write the versioned migrations for a changed ent/schema (needs MariaDB/MySQL at 127.0.0.1:3306)
migration:
	@test -n "$(NAME)" || (echo "usage: make migration NAME=what_changed" && exit 2)
	$(GO) run ./internal/store/migrationgen -name $(NAME)

clean:
	rm -rf $(BIN)
