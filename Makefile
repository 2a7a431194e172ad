# Every target here is what CI, the pipeline's synth step and the README use.
# Keep `test` identical to the README's test command.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

GO_PACKAGES := ./...

.PHONY: test vet synth
test: vet
	go test -count=1 $(GO_PACKAGES)

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)

synth:
	go run .
