# Companion: `make run` starts the app, `make test` runs every test. Both install what is missing
# (Debian/Ubuntu packages with apt-get, npm packages from the lock files, tauri-driver with cargo).
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/companion-target
export PATH := $(HOME)/.cargo/bin:$(PATH)

APT_PACKAGES := build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libxdo-dev \
	libayatana-appindicator3-dev librsvg2-dev xvfb xauth webkit2gtk-driver xdotool chromium poppler-utils
NODE_MIN := 20.19
APP := $(CARGO_TARGET_DIR)/debug/companion-app
CLI := $(CARGO_TARGET_DIR)/debug/companion
CLINIC := $(CARGO_TARGET_DIR)/debug/companion-clinic
# Node 20 has WebSocket only behind a flag; the FHIR validator's library expects it.
NODE_FHIR := node --experimental-websocket

.PHONY: all deps node-deps ui app cli tauri-driver run run-clinic test check-layers lint bindings test-rust test-ui test-fhir test-care test-e2e bench clean
all: app cli

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "Rust is needed: install it with rustup, then run make again."; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq nodejs npm; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number);const [x,y]="$(NODE_MIN)".split(".").map(Number);process.exit(a>x||(a===x&&b>=y)?0:1)' \
		|| { echo "Node.js $(NODE_MIN) or newer is needed (found $$(node --version))."; exit 1; }

# npm packages, installed exactly as locked, again only when a lock file changes.
ui/node_modules/.installed: ui/package-lock.json
	npm ci --prefix ui --no-audit --no-fund
	@touch $@
tests/e2e/node_modules/.installed: tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund
	@touch $@
tests/fhir/node_modules/.installed: tests/fhir/package-lock.json
	npm ci --prefix tests/fhir --no-audit --no-fund
	@touch $@
tests/care/node_modules/.installed: tests/care/package-lock.json
	npm ci --prefix tests/care --no-audit --no-fund
	@touch $@
node-deps: deps ui/node_modules/.installed tests/e2e/node_modules/.installed tests/fhir/node_modules/.installed \
	tests/care/node_modules/.installed

# The app embeds ui/dist at compile time, so the UI is built first.
ui: deps ui/node_modules/.installed
	npm --prefix ui run build

app: ui
	cargo build -p companion-app

cli: deps
	cargo build -p companion-cli -p companion-clinic

tauri-driver: deps
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

run: app
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "No display found: starting the app in a virtual X server (Xvfb)."; \
		xvfb-run -a $(APP); \
	else \
		$(APP); \
	fi

# The clinic server with a demo nurse, coordinator and admin, and a demo patient whose diary has
# raised an alert, so the care team's worklist can be opened in a browser at once.
run-clinic: cli
	CLINIC=$(CLINIC) CLI=$(CLI) scripts/run-clinic

test: test-rust test-ui test-fhir test-care test-e2e

# The core and the CLI never depend on Tauri or a web view, not even indirectly.
check-layers: deps
	@if cargo tree -p companion-core -p companion-cli -e normal --prefix none | grep -E '^(tauri|wry|webkit2gtk)[ -]'; then \
		echo "companion-core or companion-cli depends on Tauri"; exit 1; fi

# rustfmt and clippy come with rustup's default profile; a minimal one gets them added.
lint: deps
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The TypeScript of the app's commands, written again from companion_core::api (the test of the
# same name fails while the committed file is stale).
bindings: deps
	UPDATE_BINDINGS=1 cargo test -p companion-core --lib api::bindings

# The clinic server's suite runs twice: on SQLite (above) and on a local PostgreSQL.
test-rust: ui check-layers lint
	cargo test --workspace
	# (--workspace keeps the features of the build above, so nothing is compiled again)
	COMPANION_TEST_POSTGRES=$$(scripts/postgres) cargo test --workspace --test clinic
	# The benchmark is not a test, but it must keep compiling.
	cargo check -p companion-core --features bench-plain --benches
	cargo check -p companion-clinic --benches

test-ui: node-deps
	npm --prefix ui test
	npm --prefix ui run check

test-fhir: cli node-deps
	cd tests/fhir && COMPANION_CLI=$(CLI) COMPANION_CLINIC=$(CLINIC) $(NODE_FHIR) --test

# The care team's web app in Debian's Chromium (playwright-core drives it; no browser download).
test-care: cli node-deps
	cd tests/care && COMPANION_CLINIC=$(CLINIC) COMPANION_CLI=$(CLI) timeout -k 10s 10m node care.test.mjs

test-e2e: app cli tauri-driver node-deps
	# A hang (a window that never closes) fails the run here instead of using up CI's time.
	cd tests/e2e && COMPANION_APP=$(APP) COMPANION_CLINIC=$(CLINIC) timeout -k 10s 20m xvfb-run -a node --test --test-reporter=spec app.test.mjs

bench: deps
	cargo bench -p companion-core --features bench-plain --bench store
	COMPANION_BENCH_POSTGRES=$$(scripts/postgres) cargo bench -p companion-clinic --bench sync --bench worklist

clean:
	rm -rf ui/dist ui/node_modules tests/e2e/node_modules tests/fhir/node_modules tests/care/node_modules tests/e2e/artifacts \
		tests/care/artifacts
