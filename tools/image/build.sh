#!/usr/bin/env bash
# Build the passthru container image `passthru:local` with no registry: a Debian bookworm
# minbase (passthru-debian:bookworm, made by tools/provision/docker.sh with debootstrap) plus
# the peer tools, then node and the bundled CLI. Two layers, each rebuilt only when stale:
#   passthru-tools:bookworm-<key>  base + pciutils driverctl libvirt-clients dpdk iproute2, installed by
#                                  apt in a chroot of the exported base on this host (the host
#                                  reaches Debian's mirror; containers have no network), then
#                                  `docker import`. <key> hashes the package list and recipe.
#   passthru:local                 that + /usr/local/bin/node (this host's node 20 binary; its
#                                  libraries are all in bookworm) + the esbuild bundle at
#                                  /usr/local/lib/passthru/passthru.mjs (+ its chunks/), run by
#                                  /usr/local/bin/passthru (the ENTRYPOINT). Made with
#                                  create + cp + commit, so no builder (buildx) is needed. Its
#                                  label passthru.build-key hashes bundle, node, wrapper and
#                                  tools image; a matching label means up to date.
# Usage: bash tools/image/build.sh [--force]     (after `npm run build` and docker.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE="${PASSTHRU_IMAGE:-passthru:local}"
BASE=passthru-debian:bookworm
PKGS="pciutils driverctl libvirt-clients dpdk iproute2"
STATE="${PASSTHRU_DOCKER_DIR:-/var/lib/passthru-test/docker}"
BUNDLE=apps/cli/dist/passthru.mjs
CHUNKS=apps/cli/dist/chunks   # esbuild code splitting: chunks passthru.mjs imports on demand
WRAPPER=tools/image/passthru
force=false; [ "${1:-}" = --force ] && force=true

say() { echo "image/build.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; run: sudo bash tools/provision/docker.sh"
docker image inspect "$BASE" >/dev/null 2>&1 || die "base image $BASE is missing; run: sudo bash tools/provision/docker.sh"
[ -s "$BUNDLE" ] || die "$BUNDLE is missing; run: npm run build"
NODE="$(readlink -f "${PASSTHRU_IMAGE_NODE:-$(command -v node)}")"
"$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "$NODE is not node >= 20"

# 1. The tools layer (dpdk-devbind.py runs `ip -o route`, but Debian's dpdk does not depend on
#    iproute2: see tools/e2e/ANCHOR_BUGS.md).
tools_key=$(printf '%s\n' "$PKGS" "$(docker image inspect -f '{{.Id}}' "$BASE")" "recipe-1" | sha256sum | cut -c1-12)
TOOLS="passthru-tools:bookworm-$tools_key"
if ! docker image inspect "$TOOLS" >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "building $TOOLS needs root (chroot); run: sudo bash $0"
  mkdir -p "$STATE"
  dir=$(mktemp -d "$STATE/tools-rootfs.XXXXXX"); trap 'rm -rf "$dir"' EXIT
  say "building $TOOLS: $BASE + $PKGS (apt in a chroot of $dir)"
  cid=$(docker create --network none "$BASE" /bin/true)
  docker export "$cid" | tar -C "$dir" -x; docker rm "$cid" >/dev/null
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
  # A private mount namespace: /proc for the maintainer scripts goes away with it.
  unshare -m sh -c "mount -t proc proc '$dir/proc' && DEBIAN_FRONTEND=noninteractive chroot '$dir' sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends $PKGS'" >&2 \
    || die "apt-get install $PKGS in the chroot failed (is Debian's mirror reachable? try: apt-get update)"
  # Smaller image: no apt caches, docs, manuals or translations (nothing here reads them).
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir/usr/sbin/policy-rc.d" \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
  : >"$dir/etc/resolv.conf"
  tar -C "$dir" -c . | docker import - "$TOOLS" >/dev/null
  rm -rf "$dir"; trap - EXIT
  # Older recipes' tools images are dead weight now.
  docker images --format '{{.Repository}}:{{.Tag}}' passthru-tools | grep -vx "$TOOLS" | xargs -r docker rmi >/dev/null 2>&1 || true
fi

# 2. The passthru layer.
chunks=(); [ -d "$CHUNKS" ] && mapfile -t chunks < <(find "$CHUNKS" -type f -name '*.mjs' | sort)
key=$(sha "$BUNDLE" "${chunks[@]}" "$NODE" "$WRAPPER" "$0" | sed "s/\$/-$tools_key/")
if ! $force && [ "$(docker image inspect -f '{{index .Config.Labels "passthru.build-key"}}' "$IMAGE" 2>/dev/null || true)" = "$key" ]; then
  say "$IMAGE is up to date (build key $key)"; exit 0
fi
say "building $IMAGE from $TOOLS + $NODE ($("$NODE" --version)) + $BUNDLE"
version=$("$NODE" "$BUNDLE" --version)
cid=$(docker create --network none "$TOOLS" /bin/true)
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
docker cp "$NODE" "$cid:/usr/local/bin/node"
tmp=$(mktemp -d); mkdir -p "$tmp/passthru"; cp "$BUNDLE" "$tmp/passthru/passthru.mjs"
[ -d "$CHUNKS" ] && cp -r "$CHUNKS" "$tmp/passthru/chunks"
docker cp "$tmp/passthru" "$cid:/usr/local/lib/"
docker cp "$WRAPPER" "$cid:/usr/local/bin/passthru"
rm -rf "$tmp"
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/passthru"]' --change 'CMD ["doctor", "--root", "/host"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /' \
  --change "LABEL passthru.build-key=$key org.opencontainers.image.title=passthru org.opencontainers.image.version=$version" \
  "$cid" "$IMAGE" >/dev/null
docker rm "$cid" >/dev/null; trap - EXIT
# Smoke test: the binary's libraries are in the image and the bundle starts.
got=$(docker run --rm --network none "$IMAGE" --version) || die "$IMAGE does not start: docker run --rm $IMAGE --version"
say "built $IMAGE (passthru $got, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
