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

# write_specs STAGE: the spec files, in rpm-specs.sh
source "$(dirname "$0")/rpm-specs.sh"

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
