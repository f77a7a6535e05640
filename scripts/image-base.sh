#!/usr/bin/env bash
# Builds the gate's base image here, where mcr.microsoft.com cannot be reached: the equivalent of
# runtime-deps:10.0-chiseled from Debian packages. `mmdebstrap --variant=extract` unpacks just the listed packages
# (no dependencies, no maintainer scripts), so the result has no shell, no dpkg/apt and no coreutils. ICU is not
# needed (InvariantGlobalization). The CA bundle ca-certificates' postinst would generate is concatenated here
# from the certificates the package ships. The tarball is cached: reruns only re-import it.
#
# usage: scripts/image-base.sh OUT_DIR   (prints the podman image name it imported)
set -euo pipefail
out=${1:?usage: image-base.sh OUT_DIR}
suite=${IMAGE_BASE_SUITE:-bookworm}
packages=libc6,libgcc-s1,libstdc++6,libssl3,zlib1g,ca-certificates
tar=$out/base-$suite.tar
mkdir -p "$out"
source "$(dirname "$0")/image-lib.sh"

if [ ! -s "$tar" ]; then
  echo "building the base from Debian $suite: $packages" >&2
  root=$out/base-root
  rm -rf "$root"
  # The extract variant runs no hooks, so the tree is finished here before it is packed.
  mmdebstrap --quiet --variant=extract --include="$packages" "$suite" "$root"
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  # Dependencies apt pulled in (debconf, openssl's CLI) and everything else that is not a library or data the
  # runtime reads: programs, perl modules, iconv modules (.NET does not use iconv), docs, package databases.
  rm -rf "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/usr/share/perl5 "$root"/usr/share/debconf \
    "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/lintian \
    "$root"/usr/share/locale "$root"/usr/share/pixmaps "$root"/usr/share/bash-completion "$root"/usr/share/gcc "$root"/usr/lib/ssl/misc "$root"/var/cache "$root"/var/lib/apt "$root"/var/lib/dpkg \
    "$root"/var/log "$root"/etc/apt "$root"/etc/dpkg "$root"/etc/debconf.conf
  mkdir -p "$root/tmp" "$root/home/nonroot" "$root/var/lib/admission-gate"
  chmod 1777 "$root/tmp"
  chown 65532:65532 "$root/home/nonroot" "$root/var/lib/admission-gate"
  tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$out/partial-base.tar" .
  rm -rf "$root"
  mv "$out/partial-base.tar" "$tar"
fi

# Tagged by the tarball's hash: a rebuilt tarball is imported afresh, an unchanged one is reused.
name=localhost/admission-gate-base:$suite-$(sha256sum "$tar" | cut -c1-12)
if ! pm image exists "$name"; then
  pm import --quiet "$tar" "$name" >/dev/null
fi
# No shell, no package manager, no other program: fail if any slipped in.
if found=$(tar -tf "$tar" | grep -E '^\./(usr/)?s?bin/.|/(sh|bash|dash|dpkg|apt|apt-get|perl)$'); then
  echo "base image contains programs it must not have:" >&2; echo "$found" >&2; exit 1
fi
echo "$name"
