# Companion: `make run` starts the app, `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/companion-target
APT_PACKAGES := build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libxdo-dev \
	libayatana-appindicator3-dev librsvg2-dev xvfb

.PHONY: deps run test
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo (rustup) is required"; exit 1; }

run: deps
	cargo run -p companion-app

test: deps
	cargo test --workspace
