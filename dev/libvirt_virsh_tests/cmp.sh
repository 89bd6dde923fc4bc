#!/bin/sh
# usage: cmp.sh WORK [py-folder-suffix]: every file the tests left in WORK/work-real and
# WORK/work-$2 (default py), compared with timestamps, CPU times and the shell's name masked
# (pyvirt's prompt and banner say pyvirt on purpose)
cd "$1" || exit 1
py=${2:-py}
mask() {
  sed 's/[0-9-]\{10\} [0-9:.]* .[0-9]\{4\}/TS/g; s/<creationTime>[0-9]*</<creationTime>X</;
       s/^Welcome to pyvirt/Welcome to virsh/; s/^CPU time: .*/CPU time: X/; s/pyvirt #/virsh #/g' "$1" 2>/dev/null | md5sum
}
for t in $(ls work-real); do
  n=0
  for f in $(cd "work-real/$t" && find . -type f | sort); do
    [ "$(mask "work-real/$t/$f")" = "$(mask "work-$py/$t/$f")" ] || { n=$((n+1)); echo "  differs: $t/$f"; }
  done
  echo "$t: $n differing files"
done
