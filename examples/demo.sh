#!/bin/bash
# demo.sh: a guided tour of evault, run by `make demo`.
#
# Works non-interactively in a fresh temporary directory, which it removes at
# the end: create a vault, show it, change its passphrase, add a recovery
# code and unlock with it, import the sample dataset (examples/, drawn from a
# published public report), attach evidence, list, show, search and extract
# it, verify every page, detect tampering, and crypto-erase a copy. Passphrases come from files (mode 0600), never from
# the command line. Exits non-zero as soon as any step does not do what it
# should.
#
# Environment: EVAULT, the binary to run (default: ./evault next to this
# script's parent directory, which `make demo` builds first).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
EVAULT=${EVAULT:-$here/evault}
if [ ! -x "$EVAULT" ]; then
    echo "demo: no evault binary at '$EVAULT': run 'make demo' (or 'make' first)" >&2
    exit 1
fi
case "$EVAULT" in /*) ;; *) EVAULT="$PWD/$EVAULT" ;; esac

# Only what this script sets may steer evault.
unset EVAULT_FILE EVAULT_PASSPHRASE_FILE EVAULT_TESTING

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/evault-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# A heading (blank line first), then comment lines, one per argument.
step() { printf '\n'; say "$@"; }
say() { printf '# %s\n' "$@"; }
# Print "$ evault ARGS" as the user would type it (quoting where needed).
show() {
    local a out='$ evault'
    for a in "$@"; do
        case "$a" in
        *[!A-Za-z0-9_./=:-]*) out="$out '$a'" ;;
        *) out="$out $a" ;;
        esac
    done
    printf '%s\n' "$out"
}
# Show a command, then run it.
ev() {
    show "$@"
    "$EVAULT" "$@"
}
# Show a command, then run it with stdout going to file $1.
ev_to() {
    local out=$1
    shift
    printf '%s > %s\n' "$(show "$@")" "$out"
    "$EVAULT" "$@" >"$out"
}
# Run a command that must fail with exit status $1.
ev_fails() {
    local want=$1 rc=0
    shift
    show "$@"
    "$EVAULT" "$@" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "demo: expected exit status $want, got $rc" >&2
        exit 1
    fi
    echo "(exit status $rc, as expected)"
}
# Flip the lowest bit of the byte at offset $2 of file $1.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # The format is built on purpose: an octal escape for the new byte.
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $((b ^ 1)))" |
        dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}

step "Working in $work (removed at the end)." \
    "Passphrases live in files readable only by us (mode 0600); evault" \
    "never takes a passphrase on its command line, where 'ps' would show it."
printf '%s\n' 'correct horse battery staple' >first.pass
printf '%s\n' 'a much longer and better passphrase, 2024' >second.pass
chmod 600 first.pass second.pass
ls -l first.pass second.pass

step "1. Create a vault. '--kdf interactive' keeps this demo quick (about 0.1 s" \
    "   per unlock); real vaults should keep the default 'moderate' (about" \
    "   1-2 s and 256 MiB per attempt) or use 'sensitive'." \
    "   evault prints the new vault's id."
ev -f demo.evault init --kdf interactive --name "Demo Defenders Network" \
    --new-passphrase-file first.pass
ls -l demo.evault

step "2. Describe it: id, format, size and keyslots; no secrets are shown."
ev -f demo.evault info --passphrase-file first.pass

step "3. Change the passphrase. The new keyslot is written to a free slot" \
    "   before the old one is erased, so a crash never locks you out."
ev -f demo.evault passwd --passphrase-file first.pass \
    --new-passphrase-file second.pass
step "   The old passphrase no longer opens the vault (exit status 3):"
ev_fails 3 -f demo.evault info --passphrase-file first.pass

step "4. Add a recovery code: 160 random bits, printed once on stdout. In real" \
    "   use, write it on paper and keep it away from this computer; here we" \
    "   save it to a 0600 file so that the demo can use it."
ev_to recovery.txt -f demo.evault keyslot add --recovery \
    --label "paper copy, office safe" --passphrase-file second.pass
chmod 600 recovery.txt
echo "recovery code: $(cat recovery.txt)"

step "5. Unlock with the recovery code instead of the passphrase. Note which" \
    "   slot says '(unlocked now)'."
ev -f demo.evault info --passphrase-file recovery.txt

step "6. Import the sample dataset: incidents, actors and a source drawn from a" \
    "   published public report on Kyrgyzstan (examples/kyrgyzstan-2023.json)." \
    "   The import is all or nothing."
ev -f demo.evault import "$here/examples/kyrgyzstan-2023.json" \
    --passphrase-file second.pass
ev -f demo.evault incident list --since 2023-08 --until 2023-09 \
    --passphrase-file second.pass

step "7. Attach evidence: the report itself, as acquired. evault hashes it with" \
    "   SHA-256 while storing it inside the encrypted vault, and prints the new" \
    "   evidence id."
cp "$here/examples/evidence/public-report-kyrgyzstan-2023.txt" report.txt
ev -f demo.evault evidence add 2 report.txt --method download \
    --acquired-by "Demo Defenders Network" \
    --description "the published report this dataset is drawn from" \
    --passphrase-file second.pass
cp "$here/examples/kyrgyzstan-2023.json" dataset.json
ev -f demo.evault evidence add 4 dataset.json --method document \
    --description "structured extract of the report" \
    --passphrase-file second.pass
step "   The same report attached to another incident is stored once: evault" \
    "   links the existing evidence instead of keeping a second copy."
ev -f demo.evault evidence add 4 report.txt --method download \
    --passphrase-file second.pass
ev -f demo.evault incident show 2 --passphrase-file second.pass
ev -f demo.evault evidence list --passphrase-file second.pass

step "8. Search everything (titles, descriptions, places, tags, names, sources," \
    "   evidence) with the full-text index that lives inside the vault."
if "$EVAULT" help search >/dev/null 2>&1; then
    ev -f demo.evault search Kloop --passphrase-file second.pass
else
    say "   (this build has no 'search' command yet)"
fi

step "9. Extract the evidence: evault re-hashes it on the way out and refuses" \
    "   (exit 4) if a single bit changed. The copy is bit for bit the original:"
ev -f demo.evault evidence extract 1 -o extracted.txt \
    --passphrase-file second.pass
sha256sum report.txt extracted.txt
cmp report.txt extracted.txt && echo "identical"

step "9a. Seal incident 2: its record, actors, sources and the SHA-256 of its" \
    "   evidence are frozen and signed by the vault's own key. Edits are then" \
    "   refused; 'amend' makes a new version and leaves the sealed one as it was."
ev -f demo.evault identity --passphrase-file second.pass
ev -f demo.evault seal 2 --passphrase-file second.pass
ev_fails 1 -f demo.evault incident edit 2 --status confirmed \
    --passphrase-file second.pass
ev -f demo.evault incident amend 2 --status confirmed \
    --passphrase-file second.pass
step "   Export the sealed record: a partner checks it with minisign and" \
    "   sha256sum alone, without evault."
ev -f demo.evault seal --export 2 -o sealed-2 --passphrase-file second.pass
(cd sealed-2 && minisign -Vm record.json -p minisign.pub &&
    sha256sum -c SHA256SUMS)
step "   Every action is in the signed, hash-chained custody log:"
ev -f demo.evault log --passphrase-file second.pass | tail -8

step "9b. Hand over to a partner who uses only the standard tools: their age" \
    "   and minisign keys, a redacted bundle for them, and the checks they run" \
    "   without evault (signature first, then decrypt, then the manifests)."
age-keygen -o partner-age.key 2>/dev/null
minisign -G -W -f -p partner.pub -s partner.key >/dev/null 2>&1
ev -f demo.evault partner add "Partner NGO" \
    --age-recipient "$(age-keygen -y partner-age.key)" \
    --minisign-key partner.pub --yes --passphrase-file second.pass
ev -f demo.evault identity --minisign-pubkey sender.pub \
    --passphrase-file second.pass >/dev/null
ev -f demo.evault export --to "Partner NGO" --all --redact -o handover.age \
    --passphrase-file second.pass
minisign -Vm handover.age -p sender.pub
mkdir received && (cd received && age -d -i ../partner-age.key ../handover.age | tar xf -)
(cd received/bundle-* && sha256sum -c --quiet manifest-sha256.txt && echo "manifest: every file OK" &&
    minisign -Vm tagmanifest-sha256.txt -p ../../sender.pub)
ev bag check received/bundle-*

step "9c. A partner who uses evault too: cards exchanged (each checks the" \
    "   other's fingerprint by phone), a bundle for their vault, and their" \
    "   import: signature first, then the bag entry by entry, all or nothing."
ev -f partner.evault init --name "Partner NGO archive" --kdf interactive \
    --new-passphrase-file second.pass >/dev/null
ev -f partner.evault identity --card partner.card --passphrase-file second.pass >/dev/null
ev -f demo.evault identity --card our.card --passphrase-file second.pass >/dev/null
ev -f demo.evault partner add "Partner archive" --card partner.card --yes \
    --passphrase-file second.pass
ev -f partner.evault partner add "Demo org" --card our.card --yes \
    --passphrase-file second.pass
ev -f demo.evault export --to "Partner archive" --incident 2 -o to-archive.age \
    --passphrase-file second.pass
ev -f partner.evault import-bundle to-archive.age --from "Demo org" \
    --passphrase-file second.pass
ev -f partner.evault incident list --passphrase-file second.pass
step "   Importing it again changes nothing; a changed byte is refused (exit 4)."
ev -f partner.evault import-bundle to-archive.age --from "Demo org" \
    --passphrase-file second.pass
cp to-archive.age bad.age
cp to-archive.age.minisig bad.age.minisig
flip_byte bad.age 300
ev_fails 4 -f partner.evault import-bundle bad.age --from "Demo org" \
    --passphrase-file second.pass
ev -f partner.evault verify --passphrase-file second.pass | tail -3

step "10. Verify: authenticate every page, run SQLite's integrity_check," \
    "   compare the keyslots with the vault's own record of them, re-hash" \
    "   the evidence, and check the seals and the custody log."
ev -f demo.evault verify --passphrase-file second.pass
ev -f demo.evault verify --json --passphrase-file second.pass

step "11. Tampering is detected: flip one bit in page 2 of a copy. evault" \
    "   refuses it with exit status 4 and names the page."
cp demo.evault tampered.evault
flip_byte tampered.evault $((4096 + 4096 + 100))
ev_fails 4 -f tampered.evault verify --passphrase-file second.pass

step "12. Crypto-erase a copy: 'shred' overwrites the 4096-byte keyslot region" \
    "   with random bytes. It needs no passphrase and takes milliseconds" \
    "   whatever the size; the encrypted pages stay but no key exists any more."
cp demo.evault copy.evault
ev -f copy.evault shred --yes
step "   Neither the passphrase nor the recovery code opens it now:"
ev_fails 3 -f copy.evault info --passphrase-file second.pass
ev_fails 3 -f copy.evault info --passphrase-file recovery.txt
step "   (On SSDs and copy-on-write file systems an old copy of the keyslot" \
    "   region may survive on the device: see SECURITY.md.)"

step "The original vault is untouched:"
ev -f demo.evault keyslot list --passphrase-file second.pass

step "Demo finished: every step behaved as expected. Cleaning up $work."
