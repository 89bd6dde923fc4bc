# A stand-in for libvirt's tests/test-lib.sh (written for pyvirt, not libvirt's): the few
# helpers the virsh-* scripts call.
: ${abs_top_builddir=$(cd "$(dirname "$0")/.." && pwd)}
: ${abs_top_srcdir=$abs_top_builddir}
: ${abs_srcdir=$abs_top_srcdir/tests}
export abs_top_builddir abs_top_srcdir abs_srcdir
compare() { diff -u "$@"; }
framework_failure() { echo "framework failure" >&2; exit 99; }
skip_test_() { echo "skip: $*" >&2; exit 77; }
mkfifo_or_skip_() { mkfifo "$1" || skip_test_ "no fifo"; }
mock_xdg_() {
  export XDG_CONFIG_HOME="$PWD/xdg/config" XDG_CACHE_HOME="$PWD/xdg/cache" XDG_RUNTIME_DIR="$PWD/xdg/run"
  mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
}
uid_is_privileged_() { test "$(id -u)" = 0; }
debug() { test "$VERBOSE" = yes && echo "$@" >&2; return 0; }
test_intro() { :; }
test_result() { if test "$3" = 0; then echo "$1) $2 ... OK" >&2; else echo "$1) $2 ... FAILED" >&2; fi; }
test_skip_case() { echo "$1) $2 ... SKIP $3" >&2; }
test_final() { :; }
