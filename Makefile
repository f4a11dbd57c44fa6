# Loa — build, run, test and benchmark on Debian.
# Every Debian package the build, the daemon, the tests and the benchmarks need is installed here.

APT_PACKAGES := pkg-config tzdata libasound2-dev libsndfile1-dev libsoxr-dev libebur128-dev libsqlite3-dev \
	libavformat-dev libavcodec-dev libswresample-dev libavutil-dev ffmpeg icecast2 \
	pulseaudio pulseaudio-utils libasound2-plugins alsa-utils nginx-light espeak-ng lame sox \
	libsox-fmt-mp3 mpg123 time bc sqlite3 python3 dpkg-dev man-db curl openssl

SWIFT ?= swift
LOA := .build/debug/loa
# The release build's folder: the packaging test builds in its own (.build-deb), since `swift test` holds .build.
SCRATCH ?= .build
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build release run samples test bench clean man completions install install-files deb

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

# The packaging test's .deb is built beside the debug build and the tests, under SCHED_IDLE: its cold release build
# takes minutes of both cores, and the real-time suites before it mostly wait on the clock. Not `nice`: SwiftPM sets
# its compilers' nice value back (to -4 when root), while SCHED_IDLE is inherited. The test waits for its `status`;
# the build is stopped when the tests end, whatever their result.
DEB_BUILD := .build-deb/for-tests
test: deps
	packaging/deb-for-tests.sh start $(DEB_BUILD)
	$(SWIFT) build --build-tests && LOA_DEB_BUILD=$(abspath $(DEB_BUILD)) $(SWIFT) test --skip-build; \
		status=$$?; packaging/deb-for-tests.sh stop $(DEB_BUILD); exit $$status

# What a station runs: optimised, the Swift runtime and Foundation linked in, so the binary needs only
# Debian's libraries (libasound, libsndfile, libsoxr, libebur128, libsqlite3).
release: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(SCRATCH)

bench: release
	bench/run.sh

# Installation: `make install` (PREFIX=/usr/local, DESTDIR respected) or, for a station, `make deb`.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
RELEASE_LOA := $(SCRATCH)/release/loa
DIST := dist
# The page's date is the last commit's, so two builds of one commit give the same page.
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date +%F)

# loa(1) from the command definitions (`loa --experimental-dump-help`), with the files and exit statuses.
man: release
	mkdir -p $(DIST)/man
	python3 packaging/manpage.py $(RELEASE_LOA) --date $(MAN_DATE) > $(DIST)/man/loa.1.tmp
	mv $(DIST)/man/loa.1.tmp $(DIST)/man/loa.1

# Completions from the command definitions too (ArgumentParser writes them).
completions: release
	mkdir -p $(DIST)/completions
	$(RELEASE_LOA) --generate-completion-script bash > $(DIST)/completions/loa.bash
	$(RELEASE_LOA) --generate-completion-script zsh > $(DIST)/completions/_loa
	$(RELEASE_LOA) --generate-completion-script fish > $(DIST)/completions/loa.fish

install: release man completions
	$(MAKE) --no-print-directory install-files

# The files only, from what release, man and completions made: `make deb` installs into its tree with this.
install-files:
	install -D -m 0755 $(RELEASE_LOA) $(DESTDIR)$(BINDIR)/loa
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/bin/loa|$(BINDIR)/loa|' packaging/loa.service > $(DESTDIR)$(UNITDIR)/loa.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/loa.service
	install -D -m 0644 $(DIST)/man/loa.1 $(DESTDIR)$(MANDIR)/man1/loa.1
	install -D -m 0644 $(DIST)/completions/loa.bash $(DESTDIR)$(BASHCOMPDIR)/loa
	install -D -m 0644 $(DIST)/completions/_loa $(DESTDIR)$(ZSHCOMPDIR)/_loa
	install -D -m 0644 $(DIST)/completions/loa.fish $(DESTDIR)$(FISHCOMPDIR)/loa.fish

# dist/loa_<version>_<arch>.deb: the release binary with only Debian's libraries as dependencies, the unit,
# /etc/loa/loa.toml, the sample station, the man page and completions (packaging/build-deb.sh).
deb: release man completions
	rm -rf $(DIST)/deb-root
	$(MAKE) --no-print-directory install-files DESTDIR=$(abspath $(DIST))/deb-root PREFIX=/usr UNITDIR=/lib/systemd/system \
		ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	packaging/build-deb.sh $(DIST)/deb-root $(DIST)

clean:
	rm -rf .build $(DIST)
