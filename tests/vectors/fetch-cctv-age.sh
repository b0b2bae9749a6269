#!/bin/sh
# fetch-cctv-age.sh DIR: put the C2SP CCTV age test vectors in DIR, one file
# per vector, for tests/unit/test_age.c (which reads DIR from
# EVAULT_CCTV_DIR). Idempotent: a DIR already filled from the same tarball is
# left alone.
#
# Source: the npm package cctv-age@0.2.0 (143 vectors), downloaded from the
# npm registry with curl, or taken from $CCTV_AGE_TGZ when set (a tarball
# fetched beforehand, for machines without network); either way checked
# against the SHA-512 and SHA-1 the registry publishes for it
# (https://registry.npmjs.org/cctv-age/0.2.0: dist.integrity and dist.shasum,
# copied here once). The package keeps the vectors as a JS module exporting
# name -> Uint8Array; node writes each out as DIR/NAME.
#
# Vector files are as the package ships them (key: value lines, an empty
# line, the age file) with one change: vectors marked "compressed: zlib" are
# written inflated and without that line, so that the C test needs no zlib.
#
# Needs: curl (unless CCTV_AGE_TGZ), sha512sum and sha1sum (coreutils), tar,
# gzip, node (Debian: curl ca-certificates nodejs).
set -eu

VERSION=0.2.0
URL=https://registry.npmjs.org/cctv-age/-/cctv-age-$VERSION.tgz
# dist.integrity, in hex: sha512-1fiGAaWr+snqgu8+uCC7qPeApAuueOESET2npKe0FVLY
# +Huf+Kkia89Rybx/uoGNCml31SgAjiQIeFOY4K3New==
SHA512=d5f88601a5abfac9ea82ef3eb820bba8f780a40bae78e112113da7a4a7b41552d8f87b9ff8a9226bcf51c9bc7fba818d0a6977d528008e2408785398e0adcd7b
SHA1=9fc9490395bde049d60ceb549f41a39adc2d080a
COUNT=143

die() { echo "fetch-cctv-age: $*" >&2; exit 1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then
    die "usage: fetch-cctv-age.sh DIR"
fi
dir=$1
stamp="$dir/.cctv-age-$VERSION-$SHA512"
[ -f "$stamp" ] && exit 0

for tool in sha512sum sha1sum tar node; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found: install it (apt-get install curl ca-certificates nodejs)"
done

parent=$(dirname "$dir")
mkdir -p "$parent"
work=$(mktemp -d "$parent/.cctv-age.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

tgz="$work/cctv-age-$VERSION.tgz"
src=$URL
if [ -n "${CCTV_AGE_TGZ:-}" ]; then
    src=$CCTV_AGE_TGZ
    cp "$CCTV_AGE_TGZ" "$tgz" || die "cannot read '$CCTV_AGE_TGZ'"
else
    command -v curl >/dev/null 2>&1 ||
        die "'curl' not found: install it (apt-get install curl ca-certificates), or set CCTV_AGE_TGZ"
    curl -fsSL --retry 3 --max-time 120 -o "$tgz" "$URL" ||
        die "cannot download '$URL': check the network, or set CCTV_AGE_TGZ to a copy of the tarball"
fi
got=$(sha512sum "$tgz" | cut -d' ' -f1)
[ "$got" = "$SHA512" ] || die "'$src' has SHA-512 $got, expected $SHA512: refusing it"
got=$(sha1sum "$tgz" | cut -d' ' -f1)
[ "$got" = "$SHA1" ] || die "'$src' has SHA-1 $got, expected $SHA1: refusing it"

mkdir "$work/pkg" "$work/out"
tar -xzf "$tgz" -C "$work/pkg" package/index.js
node --input-type=module - "$work/pkg/package/index.js" "$work/out" <<'JS'
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { pathToFileURL } from "node:url";

const [src, out] = process.argv.slice(2);
const vectors = await import(pathToFileURL(src).href);
for (const [name, bytes] of Object.entries(vectors)) {
    if (!/^[a-z0-9_]+$/.test(name) || !(bytes instanceof Uint8Array))
        throw new Error(`unexpected export '${name}'`);
    let data = Buffer.from(bytes);
    const sep = data.indexOf("\n\n");
    if (sep < 0)
        throw new Error(`vector '${name}' has no empty line`);
    const lines = data.subarray(0, sep).toString("latin1").split("\n");
    const kept = lines.filter((l) => l !== "compressed: zlib");
    if (kept.length !== lines.length) {
        const body = zlib.inflateSync(data.subarray(sep + 2));
        data = Buffer.concat([Buffer.from(kept.join("\n") + "\n\n", "latin1"), body]);
    }
    fs.writeFileSync(path.join(out, name), data);
}
JS
n=$(find "$work/out" -type f | wc -l)
[ "$n" -eq "$COUNT" ] || die "expected $COUNT vectors in the package, found $n"

rm -rf "$dir"
mv "$work/out" "$dir"
: > "$stamp"
echo "fetch-cctv-age: $COUNT vectors in $dir" >&2
