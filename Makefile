# Loa — build, run, test and benchmark on Debian.
# Every Debian package the build, the daemon, the tests and the benchmarks need is installed here.

APT_PACKAGES := pkg-config tzdata libasound2-dev libsndfile1-dev libsoxr-dev libebur128-dev libsqlite3-dev \
	pulseaudio pulseaudio-utils libasound2-plugins alsa-utils nginx-light espeak-ng lame sox \
	libsox-fmt-mp3 mpg123 time bc sqlite3 python3

SWIFT ?= swift
LOA := .build/debug/loa
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build release run samples test bench clean

# Installs only what is missing, so a second run is quick and offline.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build

# Imports the sample segments (idempotent: a file already in the library is recognised by its SHA-256).
samples: build
	$(LOA) segment add audio/asean/chinh-tri-an-ninh.wav --title "Hợp tác an ninh khu vực ASEAN" --pillar chinh-tri-an-ninh --campaign "HNCC ASEAN 37"
	$(LOA) segment add audio/asean/kinh-te.mp3 --title "RCEP và nông sản Việt" --pillar kinh-te --campaign "HNCC ASEAN 37"
	$(LOA) segment add audio/asean/van-hoa-xa-hoi.flac --title "Giao lưu thanh niên ASEAN" --pillar van-hoa-xa-hoi --campaign "HNCC ASEAN 37"
	$(LOA) segment add audio/jingles/intro.ogg --title "Nhạc hiệu chương trình"
	$(LOA) schedule validate

# The daemon on the sample station (loa.toml, schedules/, audio/), on the ALSA device loa.toml names.
run: samples
	$(LOA) schedule show
	exec $(LOA) daemon --config loa.toml

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# What a station runs: optimised, the Swift runtime and Foundation linked in, so the binary needs only
# Debian's libraries (libasound, libsndfile, libsoxr, libebur128, libsqlite3).
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

bench: release
	bench/run.sh

clean:
	rm -rf .build
