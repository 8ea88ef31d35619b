# Hark's build. Two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build, start the app
#   make test   the same set-up, then every test (under a private Xvfb + PulseAudio)
# Other targets: setup, build, portable, vet, bench, clean, env.

SHELL := /bin/bash
.DEFAULT_GOAL := build

# ISA level ggml is compiled for. The default needs AVX2/FMA/F16C (checked at start-up);
# `make portable` builds for any x86-64 CPU into bin/hark-portable.
ISA ?= x86-64-v3
ifeq ($(ISA),x86-64-v3)
  ISAFLAGS := -march=x86-64-v3
  BIN := bin/hark
else
  ISAFLAGS := -march=x86-64 -mtune=generic
  BIN := bin/hark-portable
endif

NATIVE := $(shell scripts/native.sh dir $(ISA))
LLAMA := $(shell scripts/native.sh llama-dir $(ISA))

# Every cgo package sees the include shims (whisper.h, miniaudio, stb), llama.cpp's headers and the
# static libraries of both engines (whisper.cpp's ggml renamed wsp_ggml, llama.cpp's ggml as
# libllama-ggml*.a); both are compiled -O3 for $(ISA). The flags are part of Go's cache key, and
# the directories' names carry the engines' versions and build flags.
export CGO_ENABLED := 1
export CGO_CPPFLAGS := -I$(NATIVE)/include -I$(LLAMA)/include
export CGO_CFLAGS := -O3 $(ISAFLAGS)
export CGO_CXXFLAGS := -O3 $(ISAFLAGS)
export CGO_LDFLAGS := -L$(NATIVE)/lib -L$(LLAMA)/lib
# Fyne logs a locale error at start-up unless the locale names a language.
export LANG ?= C.UTF-8
export LANGUAGE ?= en

GO := $(shell scripts/setup.sh go-path)
# Tests run `go` themselves (go list, go build): the same toolchain must come first on PATH.
export PATH := $(dir $(GO)):$(PATH)
GOFLAGS_BUILD := -buildvcs=auto
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X hark/internal/buildinfo.version=$(VERSION)

.PHONY: setup setup-test native build portable run test test-go vet bench fuzz clean env package llama-server test-model test-model-eval

setup:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

native:
	@scripts/native.sh build $(ISA)

# llama-server: llama.cpp's own OpenAI-compatible server, from the same sources and build as the
# llama.cpp Hark links (bin/llama-server).
llama-server: setup native
	@mkdir -p bin && install -m 0755 "$$(scripts/native.sh llama-tool llama-server $(ISA))" bin/llama-server
	@echo "built bin/llama-server"

# build makes two executables from the same sources: $(BIN), every command but the window
# (-tags nowindow: no Fyne linked, so `hark ask`, `hark listen` and the rest start small), and
# $(BIN)-window, the whole program, which `hark` with no command becomes (gui_nowindow.go).
# Each is linked to a temporary file and copied into place: Go's linker writes its output
# through a shared mapping, which leaves the file cached in 2 MiB folios, and until that cache
# is dropped every start maps whole folios around each page it touches (15 MiB more resident
# for `hark ask`). A copy is cached like an installed file, or one GNU ld wrote, such as
# llama.cpp's tools (docs/performance.md, "Peak memory against llama-cli").
build: setup native
	$(GO) build $(GOFLAGS_BUILD) -tags nowindow -ldflags '$(LDFLAGS)' -o $(BIN).link .
	cp $(BIN).link $(BIN).new && mv -f $(BIN).new $(BIN) && rm $(BIN).link
	$(GO) build $(GOFLAGS_BUILD) -ldflags '$(LDFLAGS)' -o $(BIN)-window.link .
	cp $(BIN)-window.link $(BIN)-window.new && mv -f $(BIN)-window.new $(BIN)-window && rm $(BIN)-window.link
	@echo "built $(BIN) ($$(du -h $(BIN) | cut -f1)) and $(BIN)-window ($$(du -h $(BIN)-window | cut -f1))"

portable:
	@$(MAKE) --no-print-directory ISA=x86-64 build

run: build
	./$(BIN) $(ARGS)

vet: setup native
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags nowindow .

# test: set-up, vet, then every test with a private X server and sound server.
test: setup-test build vet
	@scripts/test.sh

# test-go: the Go tests alone, for a shell that already has the test environment
# (eval "$$(make -s env)"; scripts/testenv/start.sh).
test-go: setup native
	$(GO) test $(TESTFLAGS) ./...

# fuzz: every fuzz target for FUZZTIME (default 30s) each; see scripts/fuzz.sh.
fuzz: setup native
	@scripts/fuzz.sh

bench: setup native
	$(GO) test -run '^$$' -bench . -benchmem $(BENCHFLAGS) ./...

# package: dist/Hark.tar.xz, a Linux bundle (the binary, a .desktop file, the icon, an install
# Makefile) made by Fyne's packager, pinned, with the systemd user units for `hark serve` and
# `hark listen` added (scripts/bundle-systemd.sh), and dist/DEPENDENCIES.txt (the Debian packages it
# needs at run time, a CJK font among them). The packager rewrites FyneApp.toml (it counts
# builds): the file is put back as it was.
FYNE_TOOLS := fyne.io/tools/cmd/fyne@v1.7.4
package: build
	mkdir -p dist
	cp FyneApp.toml dist/FyneApp.toml.orig
	$(GO) run $(FYNE_TOOLS) package --os linux --executable $(BIN) --release; \
	  status=$$?; mv dist/FyneApp.toml.orig FyneApp.toml; exit $$status
	mv Hark.tar.xz dist/
	scripts/bundle-systemd.sh dist/Hark.tar.xz $(BIN)-window
	cp DEPENDENCIES.txt dist/
	@echo "packaged dist/Hark.tar.xz (run-time packages: dist/DEPENDENCIES.txt)"

# test-model retrains the test-grade whisper model the tests use (internal/testmodels/testdata):
# five stages (scripts/train-whisper/recipe.sh), about 8 hours on 2 cores, not part
# of `make test`; MINUTES1..5 change each stage's budget. test-model-eval measures it through
# `hark transcribe`. Needs python3-torch and espeak-ng (libopenblas0-pthread makes it ~14x faster).
TRAIN_WORK := scripts/train-whisper/work
TEST_MODEL := internal/testmodels/testdata/whisper-hark-test.bin
test-model:
	@dpkg -s python3-torch libopenblas0-pthread espeak-ng >/dev/null 2>&1 || $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y python3-torch libopenblas0-pthread espeak-ng
	scripts/train-whisper/recipe.sh $(TRAIN_WORK) $(TEST_MODEL)
	cp $(TRAIN_WORK)/corpus.json internal/testmodels/testdata/whisper-hark-test.corpus.json
	cp $(TRAIN_WORK)/eval.json internal/testmodels/testdata/whisper-hark-test.eval.json

test-model-eval: build
	/usr/bin/python3 scripts/train-whisper/evaluate.py --hark $(BIN) --model $(TEST_MODEL) \
	  --eval internal/testmodels/testdata/whisper-hark-test.eval.json --out $(TRAIN_WORK)/results.json

# env prints the exports that make `go build`, `go test` and `go vet` work in a plain shell.
env:
	@echo "export CGO_ENABLED=1 CGO_CPPFLAGS='$(CGO_CPPFLAGS)' CGO_CFLAGS='$(CGO_CFLAGS)' CGO_CXXFLAGS='$(CGO_CXXFLAGS)' CGO_LDFLAGS='$(CGO_LDFLAGS)'"

clean:
	rm -rf bin dist
