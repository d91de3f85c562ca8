#!/usr/bin/env bash
# Prints the Debian archive this machine's apt uses: the first enabled `deb` URI whose path ends
# in /debian (not debian-security, not another distribution), from ROOT/etc/apt/sources.list and
# sources.list.d/*.list (one-line format: `deb [options] URI suite components`) and
# sources.list.d/*.sources (deb822 stanzas: Types, URIs, Enabled). Comments are skipped.
# Exit 1 with a message when there is none: no mirror is guessed.
# Usage: apt-mirror.sh [ROOT]    (ROOT defaults to /; the tests pass a folder of sample files)
set -euo pipefail
root="${1:-/}"
root="${root%/}"
shopt -s nullglob
files=()
for f in "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*.list "$root"/etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && files+=("$f")
done
mirror=""
if [ "${#files[@]}" -gt 0 ]; then
  mirror=$(awk '
    function want(uri) { return uri ~ /^https?:\/\/[^ ]+\/debian\/?$/ }
    function stanza_end() {
      if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
        n = split(uris, u, " ")
        for (i = 1; i <= n; i++) if (want(u[i])) { print u[i]; found = 1; exit }
      }
      types = ""; uris = ""; enabled = ""; key = ""
    }
    FNR == 1 { if (deb822) stanza_end(); deb822 = (FILENAME ~ /\.sources$/) }
    deb822 {
      if ($0 ~ /^[ \t]*#/) next
      if ($0 ~ /^[ \t]*$/) { stanza_end(); next }
      if ($0 ~ /^[ \t]/) { if (key == "uris") uris = uris " " $0; else if (key == "types") types = types " " $0; next }
      key = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", value); gsub(/[ \t]+/, " ", value)
      if (key == "types") types = value; else if (key == "uris") uris = value; else if (key == "enabled") enabled = value
      next
    }
    {
      sub(/#.*/, "")
      if ($1 != "deb") next
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (want($i)) { print $i; found = 1; exit }
    }
    END { if (!found && deb822) stanza_end() }
  ' "${files[@]}")
fi
if [ -z "$mirror" ]; then
  echo "${0##*/}: no Debian archive (an enabled deb URI ending in /debian) in $root/etc/apt/sources.list or sources.list.d/*.list, *.sources; set PASSTHRU_DEBIAN_MIRROR=URL" >&2
  exit 1
fi
echo "$mirror"
