#!/bin/sh
# Run libvirt's own virsh tests (fetched, never kept in this repository) with tools/virsh being
# the real virsh or pyvirt, then compare every file each test leaves behind.  See
# docs/conformance.md, "libvirt's own virsh tests".
#
# usage: run.sh SRC WORK real|py [test...]
#   SRC  a folder holding libvirt's tests/ (the scripts, virshtest.py port, virsh-auth.xml) and
#        examples/xml/test/ (testnode.xml and the files it names); test-lib.sh is taken from here
#   WORK where tools/ and each test's scratch folder go (WORK/work-real, WORK/work-py)
set -u
src=$1 work=$2 which=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
top=$work/top-$which
mkdir -p "$top/tools"
ln -sfn "$src/examples" "$top/examples"
rm -rf "$top/tests"; mkdir -p "$top/tests"
for f in "$src"/tests/*; do ln -sfn "$f" "$top/tests/"; done
ln -sfn "$here/test-lib.sh" "$top/tests/test-lib.sh"
if test "$which" = real; then ln -sfn "$(command -v virsh)" "$top/tools/virsh"
else ln -sfn "$repo/.venv/bin/pyvirt" "$top/tools/virsh"; fi
tests=${*:-"virshtest.py virsh-optparse virsh-synopsis virsh-schedinfo virsh-uriprecedence virsh-read-bufsiz virsh-read-non-seekable virsh-undefine virsh-vcpupin virsh-cpuset virsh-snapshot virsh-checkpoint virsh-define-dev-segfault virsh-self-test virsh-int-overflow virsh-auth"}
for t in $tests; do
  w=$work/work-$which/$t; rm -rf "$w"; mkdir -p "$w"; cd "$w" || exit 1
  abs_top_builddir=$top abs_top_srcdir=$top srcdir=$top/tests abs_srcdir=$top/tests \
    timeout 300 "$top/tests/$t" > log 2>&1
  echo "$t rc=$?"
done
