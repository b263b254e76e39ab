#!/bin/sh
# Runs examples/bootc here: builds the Containerfile FROM a corpus image in a private podman store,
# rechunks the build from containers-storage: into containers-storage:, and verifies the result
# against the tree podman mounts for the build. Needs root (overlay), podman and skopeo.
#   RECHUNKER  the CLI to run (default: bin/run.js of this checkout)
#   CORPUS     the corpus (default /var/tmp/rechunker-corpus)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
RECHUNKER=${RECHUNKER:-"node $HERE/../../bin/run.js"}
CORPUS=${CORPUS:-/var/tmp/rechunker-corpus}
WORK=$(mktemp -d /var/tmp/rechunker-bootc-example-XXXXXX)
cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$WORK/root"
runroot = "$WORK/run"
CONF
export CONTAINERS_STORAGE_CONF="$WORK/storage.conf"
P="podman --storage-driver overlay --root $WORK/root --runroot $WORK/run"
STORE="overlay@$WORK/root+$WORK/run"
cleanup() {
  $P image unmount --all --force >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

id=$($P pull -q "oci:$CORPUS/oci:base")
$P tag "$id" localhost/corpus:base
$P build -q --pull=never --build-arg BASE=localhost/corpus:base -t localhost/os:build "$HERE" >/dev/null

$RECHUNKER rechunk "containers-storage:[$STORE]localhost/os:build" "containers-storage:[$STORE]localhost/os:rechunked" \
  --label ostree.commit- --label ostree.final-diffid- --max-layers 32 --no-prior --quiet

M=$($P image mount localhost/os:build)
$RECHUNKER verify "containers-storage:[$STORE]localhost/os:rechunked" "rootfs:$M"

# The same build with its base's layers kept as they are: only what the Containerfile added is rechunked.
$RECHUNKER rechunk "containers-storage:[$STORE]localhost/os:build" "containers-storage:[$STORE]localhost/os:on-base" \
  --keep-base "containers-storage:[$STORE]localhost/corpus:base" --no-prior --quiet
$RECHUNKER verify "containers-storage:[$STORE]localhost/os:on-base" "rootfs:$M"
first() { $P image inspect --format '{{index .RootFS.Layers 0}}' "$1"; }
[ "$(first localhost/os:on-base)" = "$(first localhost/corpus:base)" ] || {
  echo "--keep-base: the bottom layer is not the base's" >&2
  exit 1
}
echo "example ok: $($P image inspect --format '{{len .RootFS.Layers}}' localhost/os:rechunked) layers;" \
  "on the base: $($P image inspect --format '{{len .RootFS.Layers}}' localhost/os:on-base) layers, the first the base's"
