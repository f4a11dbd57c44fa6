#!/bin/sh
# Builds dist/loa_<version>_<arch>.deb from a tree `make install-files` wrote with PREFIX=/usr (ROOT), adding what
# only the package has: the station's /etc/loa/loa.toml, the sample station, the maintainer scripts and DEBIAN/control.
# Called by `make deb`; run from the package's folder.
set -eu

ROOT=$1
OUT=$2
BINARY=$ROOT/usr/bin/loa

VERSION=$("$BINARY" --version)
ARCH=$(dpkg --print-architecture)

# Debug information off (a third of the binary); the symbol table stays, so a crash's backtrace names its functions.
strip --strip-debug "$BINARY"

# Debian's policy: man pages compressed, with no name or time in the gzip header, so two builds give one file.
gzip -9nf "$ROOT/usr/share/man/man1/loa.1"

install -D -m 0644 packaging/loa.toml "$ROOT/etc/loa/loa.toml"

# The sample station goes to /usr/share and postinst copies it to /var/lib/loa on a first install: files dpkg owned
# in /var/lib would be overwritten by the next upgrade after `loa schedule add` had edited them.
SAMPLES=$ROOT/usr/share/loa/samples
install -d "$SAMPLES/schedules" "$SAMPLES/audio"
install -m 0644 schedules/*.toml "$SAMPLES/schedules/"
(cd audio && find . -type f ! -path './.*' ! -path '*/.playout/*') | while read -r file; do
    install -D -m 0644 "audio/$file" "$SAMPLES/audio/$file"
done
install -d -m 0755 "$ROOT/var/lib/loa"

install -d -m 0755 "$ROOT/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "packaging/deb/$script" "$ROOT/DEBIAN/$script"
done
echo /etc/loa/loa.toml > "$ROOT/DEBIAN/conffiles"

# The libraries the binary links, as Debian's packages name them on this release (dpkg-shlibdeps reads the symbols
# files of the installed -dev packages' runtime libraries). It insists on a debian/control, so one is made aside.
SHLIBS=$(mktemp -d)
trap 'rm -rf "$SHLIBS"' EXIT
mkdir "$SHLIBS/debian"
printf 'Source: loa\n\nPackage: loa\nArchitecture: any\n' > "$SHLIBS/debian/control"
BINARY_PATH=$(realpath "$BINARY")
SHLIBS_DEPENDS=$(cd "$SHLIBS" && dpkg-shlibdeps -O "$BINARY_PATH" | sed -n 's/^shlibs:Depends=//p')
# passwd for useradd in postinst (util-linux's runuser is essential); pulse and alsa-utils are not needed to air.
DEPENDS="$SHLIBS_DEPENDS, passwd"

INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<EOF
Package: loa
Version: $VERSION
Architecture: $ARCH
Maintainer: Loa <loa@localhost>
Installed-Size: $INSTALLED_SIZE
Depends: $DEPENDS
Section: sound
Priority: optional
Description: điều khiển phát thanh cho đài truyền thanh cấp xã
 Loa đọc lịch phát của đài, giữ thư viện bản tin tải từ cấp trên, phát chúng
 qua ALSA đúng khung giờ và ghi từng lượt phát vào SQLite để xã báo cáo số lượt
 phát chính xác. Gói cài dịch vụ systemd loa.service, cấu hình /etc/loa/loa.toml
 và một đài mẫu trong /var/lib/loa.
EOF

(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$ROOT/DEBIAN/md5sums"

mkdir -p "$OUT"
DEB=$OUT/loa_${VERSION}_${ARCH}.deb
dpkg-deb --build --root-owner-group "$ROOT" "$DEB"
