#!/usr/bin/env bash
# Build a small rpm-based OS tree with real rpm, and write it as OCI images.
#
#   corpus/build-rpm-images.sh [OUT_DIR]        (default: /var/tmp/rechunker-rpm-corpus)
#
# Needs root, rpm and rpmbuild (Debian's `rpm`, installed with apt-get when missing), GNU tar,
# gzip, openssl and python3; ostree is optional (the `ostree` tree is skipped without it).
# Takes about 15 seconds; a second run reuses what is already built (delete OUT_DIR to start over).
#
# It writes spec files for 8 source packages, builds 14 binary rpms from them with rpmbuild
# (build time and file mtimes taken from the newest dated %changelog entry, as Fedora does),
# and installs them with `rpm --root ROOT --dbpath /usr/lib/sysimage/rpm` into an sqlite rpmdb.
# What it makes, under OUT_DIR:
#   rootfs/base      every package at its first version, Fedora's var/lib/rpm symlink
#   rootfs/updated   base + `rpm -U` of 3 source packages (5 binary rpms) to newer versions,
#                    each with a newer %changelog entry
#   rootfs/ostree    updated's /usr committed into a bare ostree repo at sysroot/ostree/repo and
#                    checked out again with hardlinks (`ostree checkout -H --require-hardlinks`),
#                    so repo objects and /usr files share inodes, as in rpm-ostree images
#   rpm-oci/         OCI image layout with these tags:
#     base           1 layer, the whole base tree
#     updated        1 layer, the whole updated tree
#     updated-diff   2 layers: the base tree, then the update as a diff layer (whiteouts included)
#   rpms/            the binary and source rpms
#   CORPUS.json      per tag: layer count, sizes; per rootfs: file and directory counts
#
# The trees carry file capabilities set by rpm's %caps (security.capability on usr/bin/ping and
# usr/sbin/arping), a hardlink pair inside one package, %config files, symlinks, directories
# owned by a `filesystem` package, and binary rpms grouped by SOURCERPM (corelib -> 3 binaries,
# python-lite -> 3, kernel-lite -> 2, coreutils-lite -> 2).
set -euo pipefail
OUT=${1:-/var/tmp/rechunker-rpm-corpus}
OCITOOL=${OCITOOL:-$(cd "$(dirname "$0")" && pwd)/../../shared/corpus/ocitool.py}
TOOL="python3 $OCITOOL"
DBPATH=/usr/lib/sysimage/rpm

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
[ -f "$OCITOOL" ] || { echo "no ocitool.py at $OCITOOL (set OCITOOL)" >&2; exit 1; }
command -v rpmbuild >/dev/null || { apt-get update -qq && apt-get install -y -qq rpm >/dev/null; }
[ "$(rpm --eval %_db_backend)" = sqlite ] || { echo "rpm's database backend is not sqlite" >&2; exit 1; }
log() { echo "rpm-corpus: $*" >&2; }
W="$OUT/work"; TOP="$W/rpmbuild"; SPECS="$W/specs"
mkdir -p "$OUT/rootfs" "$SPECS"

# The spec files' %install sections make their content with a `noise SEED SIZE` function:
# incompressible bytes that are the same on every build (openssl's AES-CTR keystream).
# changelog ENTRY...: each "Day Mon DD YYYY|version-release|text", newest first.
changelog() {
  local e d vr text
  for e in "$@"; do
    IFS='|' read -r d vr text <<<"$e"
    printf '* %s Corpus Builder <corpus@example.org> - %s\n- %s\n\n' "$d" "$vr" "$text"
  done
}
spec_head() { # NAME VERSION RELEASE ARCH SUMMARY
  cat <<EOF
%global debug_package %{nil}
%global __os_install_post %{nil}
Name: $1
Version: $2
Release: $3
Summary: $5
License: MIT
BuildArch: $4
AutoReqProv: no
%description
$5 (rechunker rpm corpus).
EOF
}
sub() { # SUFFIX SUMMARY REQUIRED: a subpackage that needs REQUIRED at the same version-release
  printf '%%package %s\nSummary: %s\nAutoReqProv: no\n' "$1" "$2"
  printf 'Requires: %s = %%{version}-%%{release}\n%%description %s\n%s.\n' "$3" "$1" "$2"
}

write_specs() { # STAGE: base or updated
  local s=$1 cl_corelib cl_ping cl_tz
  local corelib_v=1.4.0 ping_r=1 tz_v=2025a
  cl_corelib=("Mon Mar 03 2025|1.4.0-1|Update to 1.4.0" "Tue Oct 15 2024|1.3.2-1|Update to 1.3.2")
  cl_ping=("Wed Jan 08 2025|20240905-1|Update to 20240905")
  cl_tz=("Thu Jan 16 2025|2025a-1|Update to 2025a")
  if [ "$s" = updated ]; then
    corelib_v=1.4.1; ping_r=2; tz_v=2025b
    cl_corelib=("Fri May 16 2025|1.4.1-1|Update to 1.4.1 (security fix)" "${cl_corelib[@]}")
    cl_ping=("Mon May 12 2025|20240905-2|Fix arping capabilities" "${cl_ping[@]}")
    cl_tz=("Mon Mar 24 2025|2025b-1|Update to 2025b" "${cl_tz[@]}")
  fi

  { spec_head filesystem 3.18 6 noarch "The basic directory layout"
    cat <<'EOF'
%install
cd %{buildroot}
mkdir -p etc usr/bin usr/sbin usr/lib usr/lib64 usr/share/doc usr/share/man/man1 usr/libexec var/lib var/log sysroot opt
ln -s usr/bin bin; ln -s usr/sbin sbin; ln -s usr/lib lib; ln -s usr/lib64 lib64
%files
%dir /etc
%dir /usr
%dir /usr/bin
%dir /usr/sbin
%dir /usr/lib
%dir /usr/lib64
%dir /usr/share
%dir /usr/share/doc
%dir /usr/share/man
%dir /usr/share/man/man1
%dir /usr/libexec
%dir /var
%dir /var/lib
%dir /var/log
%dir /sysroot
%dir /opt
/bin
/sbin
/lib
/lib64
%changelog
EOF
    changelog "Tue Jul 23 2024|3.18-6|Rebuilt for the mass rebuild"; } >"$SPECS/filesystem.spec"

  { spec_head setup 2.15.0 1 noarch "System configuration files"
    cat <<'EOF'
%install
mkdir -p %{buildroot}/etc
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/sbin/nologin\n' >%{buildroot}/etc/passwd
printf 'root:x:0:\nwheel:x:10:\nnobody:x:65534:\n' >%{buildroot}/etc/group
printf 'NAME="Corpus Linux"\nVERSION_ID=42\nID=corpus\n' >%{buildroot}/etc/os-release
echo '/bin/bash' >%{buildroot}/etc/shells
%files
%config(noreplace) /etc/passwd
%config(noreplace) /etc/group
%config(noreplace) /etc/shells
/etc/os-release
%changelog
EOF
    changelog "Mon Feb 10 2025|2.15.0-1|Update to 2.15.0"; } >"$SPECS/setup.spec"

  { spec_head corelib "$corelib_v" 1 x86_64 "The core runtime library"
    sub devel "Headers for corelib" corelib
    sub tools "Command line tools of corelib" corelib
    cat <<EOF
%install
mkdir -p %{buildroot}/usr/lib64 %{buildroot}/usr/include/corelib %{buildroot}/usr/bin
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:\$1" </dev/zero 2>/dev/null | head -c "\$2"; }
noise corelib-$corelib_v 700000 >%{buildroot}/usr/lib64/libcorelib.so.1.4
ln -s libcorelib.so.1.4 %{buildroot}/usr/lib64/libcorelib.so.1
ln -s libcorelib.so.1 %{buildroot}/usr/lib64/libcorelib.so
for h in core io mem str; do
  printf '/* corelib $corelib_v: %%s */\n#define CORE_%%s 1\n' \$h \$h >%{buildroot}/usr/include/corelib/\$h.h
done
noise coretool-$corelib_v 90000 >%{buildroot}/usr/bin/coretool
chmod 755 %{buildroot}/usr/bin/coretool
%files
/usr/lib64/libcorelib.so.1.4
/usr/lib64/libcorelib.so.1
%files devel
/usr/lib64/libcorelib.so
/usr/include/corelib
%files tools
/usr/bin/coretool
%changelog
EOF
    changelog "${cl_corelib[@]}"; } >"$SPECS/corelib.spec"

  { spec_head coreutils-lite 9.5 3 x86_64 "Basic file and text utilities"
    sub doc "Documentation of coreutils-lite" coreutils-lite
    cat <<'EOF'
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/man/man1 %{buildroot}/usr/share/doc/coreutils-lite
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
for t in cat cp ls mv rm sort; do noise "cu-$t" 40000 >%{buildroot}/usr/bin/$t; chmod 755 %{buildroot}/usr/bin/$t; done
# one program under two names: a hardlink pair, as in many real packages
ln %{buildroot}/usr/bin/ls %{buildroot}/usr/bin/dir
for t in cat cp ls mv rm sort; do
  printf '.TH %%s 1\n.SH NAME\n%%s \\- coreutils-lite\n' $t $t | gzip -n >%{buildroot}/usr/share/man/man1/$t.1.gz
done
yes 'coreutils-lite, a corpus package.' | head -c 60000 >%{buildroot}/usr/share/doc/coreutils-lite/README
%files
/usr/bin/cat
/usr/bin/cp
/usr/bin/ls
/usr/bin/dir
/usr/bin/mv
/usr/bin/rm
/usr/bin/sort
%files doc
/usr/share/man/man1/*.1.gz
%doc /usr/share/doc/coreutils-lite
%changelog
EOF
    changelog "Wed Nov 20 2024|9.5-3|Rebuilt" "Fri Jun 14 2024|9.5-1|Update to 9.5"; } >"$SPECS/coreutils-lite.spec"

  { spec_head iputils-lite 20240905 "$ping_r" x86_64 "Network monitoring tools"
    cat <<'EOF'
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/sbin
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
noise ping-%{release} 80000 >%{buildroot}/usr/bin/ping
noise arping-%{release} 50000 >%{buildroot}/usr/sbin/arping
noise tracepath 30000 >%{buildroot}/usr/bin/tracepath
chmod 755 %{buildroot}/usr/bin/ping %{buildroot}/usr/sbin/arping %{buildroot}/usr/bin/tracepath
%files
%caps(cap_net_raw=p) /usr/bin/ping
%caps(cap_net_raw,cap_net_admin=ep) /usr/sbin/arping
/usr/bin/tracepath
%changelog
EOF
    changelog "${cl_ping[@]}"; } >"$SPECS/iputils-lite.spec"

  { spec_head python-lite 3.13.2 1 x86_64 "A language runtime with many small files"
    sub libs "The standard library of python-lite" python-lite
    sub test "The test suite of python-lite" python-lite-libs
    cat <<'EOF'
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
L=%{buildroot}/usr/lib64/python3.13
mkdir -p %{buildroot}/usr/bin $L/test
noise python3.13 30000 >%{buildroot}/usr/bin/python3.13; chmod 755 %{buildroot}/usr/bin/python3.13
ln -s python3.13 %{buildroot}/usr/bin/python3
for p in json email http xml asyncio; do
  mkdir -p $L/$p/__pycache__
  for m in __init__ core util parse; do
    yes "# $p.$m: module source" | head -c 6000 >$L/$p/$m.py
    noise "$p-$m" 5000 >$L/$p/__pycache__/$m.cpython-313.pyc
  done
done
for i in $(seq 1 40); do yes "# test_$i" | head -c 3000 >$L/test/test_$i.py; done
%files
/usr/bin/python3.13
/usr/bin/python3
%files libs
%dir /usr/lib64/python3.13
/usr/lib64/python3.13/json
/usr/lib64/python3.13/email
/usr/lib64/python3.13/http
/usr/lib64/python3.13/xml
/usr/lib64/python3.13/asyncio
%files test
/usr/lib64/python3.13/test
%changelog
EOF
    changelog "Thu Feb 06 2025|3.13.2-1|Update to 3.13.2" "Tue Dec 03 2024|3.13.1-1|Update to 3.13.1"
  } >"$SPECS/python-lite.spec"

  { spec_head tzdata-lite "$tz_v" 1 noarch "Time zone data"
    cat <<'EOF'
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
Z=%{buildroot}/usr/share/zoneinfo
for r in Europe America Asia Africa; do
  mkdir -p $Z/$r
  for c in $(seq 1 15); do noise "%{version}-$r-$c" 1200 >$Z/$r/City$c; done
done
ln -s Europe/City1 $Z/UTC
%files
/usr/share/zoneinfo
%changelog
EOF
    changelog "${cl_tz[@]}"; } >"$SPECS/tzdata-lite.spec"

  { spec_head kernel-lite 6.12.9 200 x86_64 "The kernel and its modules"
    sub modules "Kernel modules" kernel-lite-core
    cat <<'EOF'
%package core
Summary: The kernel image
AutoReqProv: no
%description core
The kernel image.
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
K=%{buildroot}/usr/lib/modules/6.12.9-200.x86_64
mkdir -p $K/kernel/drivers/net $K/kernel/fs
noise vmlinuz 1600000 >$K/vmlinuz
for m in e1000e igb r8169; do noise "$m" 90000 >$K/kernel/drivers/net/$m.ko; done
for m in ext4 xfs btrfs; do noise "$m" 120000 >$K/kernel/fs/$m.ko; done
%files core
%dir /usr/lib/modules
%dir /usr/lib/modules/6.12.9-200.x86_64
/usr/lib/modules/6.12.9-200.x86_64/vmlinuz
%files modules
/usr/lib/modules/6.12.9-200.x86_64/kernel
%changelog
EOF
    changelog "Sat Jan 11 2025|6.12.9-200|Update to 6.12.9"; } >"$SPECS/kernel-lite.spec"
}

build_stage() { # STAGE: write the specs of a stage and build whatever rpm is not built yet
  write_specs "$1"
  local spec newest srpm
  for spec in "$SPECS"/*.spec; do
    srpm=$(rpmspec -q --srpm --qf '%{name}-%{version}-%{release}' --define "_topdir $TOP" "$spec" 2>/dev/null)
    [ -e "$TOP/SRPMS/$srpm.src.rpm" ] && continue # unchanged since the base stage
    # Fedora builds with SOURCE_DATE_EPOCH from the newest changelog entry: build time and
    # clamped file mtimes then say when the package last changed.
    newest=$(sed -n '/^%changelog/{n;s/^\* \([A-Za-z]* [A-Za-z]* [0-9]* [0-9]*\).*/\1/p;q}' "$spec")
    SOURCE_DATE_EPOCH=$(date -u -d "$newest 12:00" +%s) rpmbuild -ba --quiet \
      --define "_topdir $TOP" --define "use_source_date_epoch_as_buildtime 1" \
      --define "clamp_mtime_to_source_date_epoch 1" --define "_buildhost corpus.example.org" \
      "$spec" >>"$W/rpmbuild.log" 2>&1 || { tail -20 "$W/rpmbuild.log" >&2; exit 1; }
  done
}

# The built rpm of every binary package a stage's specs make (rpmspec names them with arch "src").
stage_rpms() {
  local s nvr
  for s in "$SPECS"/*.spec; do
    rpmspec -q --builtrpms --qf '%{name}-%{version}-%{release}\n' --define "_topdir $TOP" "$s" 2>/dev/null
  done | while read -r nvr; do ls "$TOP"/RPMS/*/"$nvr".*.rpm; done
}

# Debian's rpm says on every install that alien should be used instead; that is all it says here.
rpm_root() {
  local root=$1 rc=0; shift
  rpm --root "$root" --dbpath "$DBPATH" "$@" >"$W/rpm.log" 2>&1 || rc=$?
  grep -v -e 'use Alien' -e 'assuming you know' "$W/rpm.log" >&2 || true
  return $rc
}

if [ ! -e "$OUT/rootfs/base/.done" ]; then
  log "building base rpms and installing them into rootfs/base"
  rm -rf "$OUT/rootfs/base" "$TOP" "$W/rpmbuild.log"; mkdir -p "$OUT/rootfs/base"
  rm -f "$OUT/rootfs/updated/.done" "$OUT/rootfs/ostree/.done" "$OUT/.images-done" # all built from base
  build_stage base
  stage_rpms >"$W/base.rpms"
  rpm_root "$OUT/rootfs/base" --initdb
  rpm_root "$OUT/rootfs/base" -i $(cat "$W/base.rpms")
  # Fedora's compatibility link: tools that still look in /var/lib/rpm find the database
  ln -s ../../usr/lib/sysimage/rpm "$OUT/rootfs/base/var/lib/rpm"
  n=$(rpm --root "$OUT/rootfs/base" --dbpath "$DBPATH" -qa 2>/dev/null | wc -l)
  want=$(wc -l <"$W/base.rpms")
  [ "$n" = "$want" ] || { log "base: $n packages installed, expected $want"; exit 1; }
  touch "$OUT/rootfs/base/.done"
fi
if [ ! -e "$OUT/rootfs/updated/.done" ]; then
  log "updated = base + rpm -U of corelib, iputils-lite, tzdata-lite"
  rm -rf "$OUT/rootfs/updated"; cp -a "$OUT/rootfs/base" "$OUT/rootfs/updated"; rm -f "$OUT/rootfs/updated/.done"
  rm -f "$OUT/rootfs/ostree/.done" "$OUT/.images-done"
  build_stage updated
  stage_rpms | grep -v -x -F -f "$W/base.rpms" >"$W/updated.rpms"
  rpm_root "$OUT/rootfs/updated" -U $(cat "$W/updated.rpms")
  for p in $(sed 's|.*/||; s/\.rpm$//' "$W/updated.rpms"); do
    rpm --root "$OUT/rootfs/updated" --dbpath "$DBPATH" -q "$p" >/dev/null 2>&1 ||
      { log "updated: $p not installed"; exit 1; }
  done
  touch "$OUT/rootfs/updated/.done"
fi
if [ ! -e "$OUT/rootfs/ostree/.done" ] && command -v ostree >/dev/null; then
  log "ostree = updated with /usr committed to sysroot/ostree/repo and checked out with hardlinks"
  R="$OUT/rootfs/ostree"; rm -rf "$R"; cp -a "$OUT/rootfs/updated" "$R"; rm -f "$R/.done"
  mkdir -p "$R/sysroot/ostree/repo"; ostree --repo="$R/sysroot/ostree/repo" init --mode=bare
  ostree --repo="$R/sysroot/ostree/repo" commit --branch=corpus/usr --tree=dir="$R/usr" \
    --timestamp=2025-05-16T12:00:00Z --subject="rpm corpus /usr" >/dev/null
  rm -rf "$R/usr"
  ostree --repo="$R/sysroot/ostree/repo" checkout -H --require-hardlinks corpus/usr "$R/usr"
  touch "$R/.done"
fi
mkdir -p "$OUT/rpms"; cp -u "$TOP"/RPMS/*/*.rpm "$TOP"/SRPMS/*.rpm "$OUT/rpms/" 2>/dev/null || true

L="$OUT/rpm-oci"; B="$L/blobs/sha256"
full_list() { (cd "$1" && find . -mindepth 1 ! -name .done | sed 's|^\./||' | LC_ALL=C sort) >"$2"; }
if [ ! -e "$OUT/.images-done" ]; then
  rm -rf "$L"; mkdir -p "$B"
  log "writing OCI images"
  full_list "$OUT/rootfs/base" "$W/base.list"
  full_list "$OUT/rootfs/updated" "$W/updated.list"
  base_l=$($TOOL layer "$OUT/rootfs/base" "$B" --list "$W/base.list")
  upd_l=$($TOOL layer "$OUT/rootfs/updated" "$B" --list "$W/updated.list")
  $TOOL image "$L" base "$base_l" --created 2025-03-03T12:00:00Z >&2
  $TOOL image "$L" updated "$upd_l" --created 2025-05-16T12:00:00Z >&2
  $TOOL diff "$OUT/rootfs/base" "$OUT/rootfs/updated" "$W/upd" >&2
  upd_diff=$($TOOL layer "$OUT/rootfs/updated" "$B" --list "$W/upd.list" --whiteouts "$W/upd.wh")
  $TOOL image "$L" updated-diff "$base_l" "$upd_diff" --created 2025-05-16T12:00:00Z >&2
  touch "$OUT/.images-done"
fi

python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]; L = os.path.join(out, 'rpm-oci'); B = os.path.join(L, 'blobs', 'sha256')
idx = json.load(open(os.path.join(L, 'index.json')))
info = {'images': {}, 'rootfs': {}}
for m in idx['manifests']:
    man = json.load(open(os.path.join(B, m['digest'].split(':')[1])))
    info['images'][m['annotations']['org.opencontainers.image.ref.name']] = {
        'manifest': m['digest'], 'layers': len(man['layers']),
        'compressed_bytes': sum(l['size'] for l in man['layers'])}
for name in sorted(os.listdir(os.path.join(out, 'rootfs'))):
    files = dirs = 0; size = 0
    for dp, dns, fns in os.walk(os.path.join(out, 'rootfs', name)):
        dirs += len(dns)
        for f in fns:
            p = os.path.join(dp, f); files += 1
            if os.path.isfile(p) and not os.path.islink(p): size += os.lstat(p).st_size
    info['rootfs'][name] = {'files': files, 'dirs': dirs, 'file_bytes': size}
json.dump(info, open(os.path.join(out, 'CORPUS.json'), 'w'), indent=1)
print(json.dumps(info, indent=1))
EOF
