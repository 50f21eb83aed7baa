#!/usr/bin/env bash
# The Debian packages as ops would get them: builds them with cpack from BUILD_DIR (a Release
# tree configured with the `package` preset), unpacks each into a scratch root (dpkg-deb -x,
# nothing touches the machine), and checks what they hold: files, conffiles, maintainer
# scripts, Depends from dpkg-shlibdeps, programs that run and need nothing from the build
# tree; `systemd-analyze verify` says nothing about the units; and the unpacked MotherShip,
# started with its unit's ExecStart line against a scratch config as an unprivileged user,
# answers /readyz.
#   packaging/package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
scratch=$(mktemp -d /tmp/tte-package-test.XXXXXX)
ms_pid=
cleanup() {
  [ -n "$ms_pid" ] && kill "$ms_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
need() { command -v "$1" >/dev/null || { echo "package_test: $1 is missing (scripts/setup installs it)" >&2; exit 1; }; }
for tool in cpack dpkg-deb dpkg-shlibdeps readelf systemd-analyze help2man curl openssl setpriv; do need "$tool"; done

# 1. Build the packages.
rm -rf "$build/packages"
(cd "$build" && cpack -G DEB --config CPackConfig.cmake >"$scratch/cpack.log" 2>&1) \
  || { cat "$scratch/cpack.log"; echo "package_test: cpack failed" >&2; exit 1; }
declare -A deb
for name in tte-station tte-mothership tte-controller tte-customer-tools; do
  f=$(ls "$build"/packages/${name}_*.deb 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] || { fail "no package $name in $build/packages"; continue; }
  deb[$name]=$f
  pass "built $(basename "$f") ($(du -k "$f" | cut -f1) KiB)"
done
((failures == 0)) || exit 1

root="$scratch/root"
mkdir -p "$root"
field() { dpkg-deb --field "${deb[$1]}" "$2"; }
for name in "${!deb[@]}"; do
  dpkg-deb -x "${deb[$name]}" "$root"
  mkdir -p "$scratch/control/$name"
  dpkg-deb -e "${deb[$name]}" "$scratch/control/$name"
  dpkg-deb -c "${deb[$name]}" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort >"$scratch/files.$name"
done

# 2. What each package holds.
expect_files() {  # PACKAGE FILE...
  local name=$1; shift
  for f in "$@"; do
    grep -qx "$f" "$scratch/files.$name" || fail "$name does not hold $f"
  done
}
man() { echo "/usr/share/man/man1/$1.1.gz"; }
expect_files tte-station /usr/bin/tte-provision /usr/bin/tte-station /usr/bin/tte-flash /usr/bin/tte-hsm /usr/bin/tte-label \
  "$(man tte-provision)" "$(man tte-station)" "$(man tte-flash)" "$(man tte-hsm)" "$(man tte-label)" \
  /usr/lib/udev/rules.d/60-tte-station.rules /usr/lib/sysusers.d/tte-station.conf \
  /etc/tte/station.toml /etc/tte/labels.toml /usr/share/doc/tte-station/STATION.md
expect_files tte-mothership /usr/bin/tte-mothership "$(man tte-mothership)" /usr/lib/systemd/system/tte-mothership.service \
  /usr/lib/sysusers.d/tte-mothership.conf /etc/tte/mothership.toml /usr/share/doc/tte-mothership/OPERATIONS.md
expect_files tte-controller /usr/bin/tte-controller "$(man tte-controller)" /usr/lib/systemd/system/tte-controller.service \
  /usr/lib/sysusers.d/tte-controller.conf /etc/tte/controller.toml
expect_files tte-customer-tools /usr/bin/tte-introducer /usr/bin/tte-device "$(man tte-introducer)" "$(man tte-device)"
dups=$(cat "$scratch"/files.* | sort | uniq -d)
[ -z "$dups" ] || fail "files in more than one package (dpkg would refuse): $dups"
pass "package contents"

# conffiles: every file under /etc, and only those; maintainer scripts parse and are executable.
for name in "${!deb[@]}"; do
  want=$(grep '^/etc/' "$scratch/files.$name" || true)
  have=$(sort "$scratch/control/$name/conffiles" 2>/dev/null || true)
  [ "$want" = "$have" ] || fail "$name conffiles: expected [$want], got [$have]"
  for s in preinst postinst prerm postrm; do
    f="$scratch/control/$name/$s"
    [ -e "$f" ] || continue
    [ -x "$f" ] || fail "$name $s is not executable"
    sh -n "$f" || fail "$name $s does not parse"
  done
done
for name in tte-station tte-mothership tte-controller; do
  [ -x "$scratch/control/$name/postinst" ] || fail "$name has no postinst (system user or group)"
done
grep -q 'ATTR{idVendor}=="0483", ATTR{idProduct}=="df11".*GROUP="tte-station"' "$root/usr/lib/udev/rules.d/60-tte-station.rules" \
  || fail "the udev rule does not give the group tte-station access to 0483:df11"
pass "conffiles, maintainer scripts, udev rule"

# 3. Depends from dpkg-shlibdeps: the libraries each program links, nothing of the build.
expect_depends() {  # PACKAGE PATTERN...
  local deps; deps=$(field "$1" Depends)
  for p in "${@:2}"; do
    grep -Eq "(^|, )$p" <<<"$deps" || fail "$1 Depends lacks $p: $deps"
  done
}
expect_depends tte-mothership 'libc6 ' 'libcoap3' 'libpqxx-6.4' 'libsqlite3-0' 'libssl3' 'libprometheus-cpp-core1.0' 'adduser'
expect_depends tte-station 'libusb-1.0-0' 'libcups2' 'libqrencode4' 'libqt6widgets6' 'libcurl4' 'adduser'
expect_depends tte-controller 'libcoap3' 'libssl3' 'adduser'
expect_depends tte-customer-tools 'libcoap3' 'libzbar0'
for name in "${!deb[@]}"; do
  grep -q 'asan\|ubsan' <<<"$(field "$name" Depends)" && fail "$name depends on a sanitizer runtime"
done
pass "Depends"

# 4. Programs: no RPATH into the build, every library found, each answers --help.
for exe in "$root"/usr/bin/*; do
  prog=$(basename "$exe")
  # Whole outputs into grep: with pipefail, `producer | grep -q` fails when grep stops reading
  # at its first match and the producer is still writing (SIGPIPE, curl's error 23).
  dynamic=$(readelf -d "$exe")
  if grep -Eq 'RPATH|RUNPATH' <<<"$dynamic"; then fail "$prog has an RPATH/RUNPATH"; fi
  if grep -q 'libasan\|libubsan' <<<"$dynamic"; then fail "$prog links a sanitizer runtime"; fi
  missing=$(ldd "$exe" | grep 'not found' || true)
  [ -z "$missing" ] || fail "$prog: libraries not found: $missing"
  if ! QT_QPA_PLATFORM=offscreen "$exe" --help >"$scratch/help.$prog" 2>&1; then
    fail "$prog --help failed: $(head -c 300 "$scratch/help.$prog")"
  fi
done
pass "programs ($(ls "$root/usr/bin" | wc -l)) run from the unpacked root"

# 5. The units: systemd-analyze verify in the scratch root (with the machine's own units
#    beside them, so dependencies such as sysinit.target resolve) prints nothing.
mkdir -p "$root/lib/systemd"
cp -a /lib/systemd/system "$root/lib/systemd/"
for unit in tte-mothership.service tte-controller.service; do
  out=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) || fail "systemd-analyze verify $unit failed: $out"
  [ -z "$out" ] && pass "systemd-analyze verify $unit: nothing to say" || fail "systemd-analyze verify $unit: $out"
  for opt in Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes CapabilityBoundingSet= \
             StateDirectory= User=; do
    grep -q "^$opt" "$root/usr/lib/systemd/system/$unit" || fail "$unit lacks $opt"
  done
done

# 6. The unpacked MotherShip, started with its unit's ExecStart command line (paths into the
#    scratch root, the config replaced by a scratch one) as an unprivileged user, until
#    /readyz answers on the admin listener and on HTTPS; SIGTERM stops it with status 0.
exec_start=$(sed -n 's/^ExecStart=//p' "$root/usr/lib/systemd/system/tte-mothership.service")
[ -n "$exec_start" ] || fail "tte-mothership.service has no ExecStart"
ms="$scratch/ms"
mkdir -p "$ms"
bin="$root/usr/bin/tte-mothership"
"$bin" --ms-id 1 admin keygen dtls --key "$ms/dtls.key" --cert "$ms/dtls.pem" >/dev/null
"$bin" admin keygen otp --out "$ms/otp-hash.key" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tte-000001.net \
  -addext subjectAltName=DNS:tte-000001.net -keyout "$ms/tls.key" -out "$ms/tls.pem" 2>/dev/null
# The shipped example with this scratch site's paths and ports.
sed -e "s|/etc/tte/mothership/|$ms/|g" -e "s|sqlite:///var/lib/tte-mothership/registry.db|sqlite://$ms/registry.db|" \
    -e 's|127.0.0.1:8443|127.0.0.1:0|; s|127.0.0.1:5684|127.0.0.1:0|; s|127.0.0.1:9474|127.0.0.1:0|' \
    -e "s|^# ports_file = .*|ports_file = \"$ms/ports\"|" "$root/etc/tte/mothership.toml" >"$ms/mothership.toml"
grep -q "ports_file = \"$ms/ports\"" "$ms/mothership.toml" || fail "the example config has no ports_file line to set"
chown -R nobody:nogroup "$ms"
chmod 0755 "$scratch"
cmd=${exec_start//\/usr\/bin\//$root/usr/bin/}
cmd=${cmd//\/etc\/tte\/mothership.toml/$ms/mothership.toml}
# shellcheck disable=SC2086  # the unit's command line, split as systemd splits it (no quotes in it)
setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs $cmd >"$ms/out" 2>"$ms/log" &
ms_pid=$!
deadline=$((SECONDS + 30))
until [ -s "$ms/ports" ] || ! kill -0 "$ms_pid" 2>/dev/null || ((SECONDS > deadline)); do sleep 0.1; done
if [ ! -s "$ms/ports" ]; then
  fail "the MotherShip did not start with \`$cmd\`: $(cat "$ms/log")"
else
  # {"admin": "127.0.0.1:PORT", "coaps": …, "fingerprint": …, "https": "127.0.0.1:PORT"}
  admin_port=$(sed -n 's/.*"admin": *"[^"]*:\([0-9]*\)".*/\1/p' "$ms/ports")
  https_port=$(sed -n 's/.*"https": *"[^"]*:\([0-9]*\)".*/\1/p' "$ms/ports")
  ready=$(curl -sS --max-time 10 "http://127.0.0.1:$admin_port/readyz" || true)
  [ "$ready" = ready ] && pass "MotherShip from its unit's ExecStart: admin /readyz says ready" \
    || fail "admin /readyz answered '$ready'"
  ready=$(curl -sS --max-time 10 --cacert "$ms/tls.pem" --connect-to "tte-000001.net:443:127.0.0.1:$https_port" \
    https://tte-000001.net/readyz || true)
  [ "$ready" = ready ] || fail "HTTPS /readyz answered '$ready'"
  metrics=$(curl -sS --max-time 10 "http://127.0.0.1:$admin_port/metrics" || true)
  grep -q '^tte_build_info{.*build_type="Release"' <<<"$metrics" \
    || fail "/metrics has no tte_build_info of a Release build: $(head -c 300 <<<"$metrics")"
  kill -TERM "$ms_pid"
  status=0
  wait "$ms_pid" || status=$?
  ms_pid=
  [ "$status" = 0 ] && pass "SIGTERM: stopped with status 0" || fail "the MotherShip exited with $status on SIGTERM: $(cat "$ms/log")"
  [ "$(stat -c %a "$ms/registry.db")" = 600 ] || fail "registry.db is not 0600 (UMask): $(stat -c %a "$ms/registry.db")"
fi

if ((failures)); then
  echo "package_test: $failures check(s) failed" >&2
  exit 1
fi
echo "package_test: all checks passed"
