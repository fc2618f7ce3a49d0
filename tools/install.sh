#!/usr/bin/env bash
# Builds nnet in release mode and installs it as a C library:
#
#   PREFIX/lib/libnnet.so.X.Y.Z   the shared library, soname libnnet.so.X (set by build.rs)
#   PREFIX/lib/libnnet.so.X       -> libnnet.so.X.Y.Z
#   PREFIX/lib/libnnet.so         -> libnnet.so.X (for -lnnet)
#   PREFIX/lib/libnnet.a          the static library
#   PREFIX/include/nnet/nnet.h    the header
#   PREFIX/lib/pkgconfig/nnet.pc  for pkg-config, with the static library's native libraries
#
# usage: tools/install.sh [--prefix P] [--destdir D] [--libdir DIR] [--no-build]
#   --prefix P   where the library will live (default /usr/local); written into nnet.pc
#   --destdir D  stage the files under D/P instead of P (for packaging), as make's DESTDIR
#   --libdir DIR the library folder under the prefix (default lib)
#   --no-build   install what target/release already holds
# Files whose contents did not change keep their dates (install -C), so a build that
# depends on them is not redone.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
destdir=
libdir=lib
build=1
while (($#)); do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) destdir=${2:?--destdir needs a value}; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --libdir) libdir=${2:?--libdir needs a value}; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $prefix in
  /*) ;;
  *) echo "install.sh: --prefix must be an absolute path, got '$prefix'" >&2; exit 2 ;;
esac

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
target=${CARGO_TARGET_DIR:-target}/release

if ((build)); then
  cargo build --release -p nnet
fi
# The native libraries the static library needs, as rustc reports them. Asking for them as a
# staticlib of its own keeps this build apart from the normal one (cargo replays the note
# when the build is already fresh).
native=$(cargo rustc --release -p nnet --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
  | sed -n 's/.*native-static-libs: //p' | tail -n 1 | grep -oE -- '-(l|framework )[^ ]+' | tr '\n' ' ')
native=${native% }
if [[ -z $native ]]; then
  echo "install.sh: rustc reported no native-static-libs" >&2
  exit 1
fi

for f in "$target/libnnet.so" "$target/libnnet.a" include/nnet.h; do
  [[ -f $f ]] || { echo "install.sh: $f is missing (run without --no-build)" >&2; exit 1; }
done

lib="$destdir$prefix/$libdir"
inc="$destdir$prefix/include/nnet"
install -d "$lib/pkgconfig" "$inc"
install -C -m 755 "$target/libnnet.so" "$lib/libnnet.so.$version"
ln -sfn "libnnet.so.$version" "$lib/libnnet.so.$major"
ln -sfn "libnnet.so.$major" "$lib/libnnet.so"
install -C -m 644 "$target/libnnet.a" "$lib/libnnet.a"
install -C -m 644 include/nnet.h "$inc/nnet.h"

pc=$(mktemp)
trap 'rm -f "$pc"' EXIT
cat >"$pc" <<PC
prefix=$prefix
libdir=\${prefix}/$libdir
includedir=\${prefix}/include

Name: nnet
Description: Fully connected tanh neural networks trained on the CPU (C API)
Version: $version
Cflags: -I\${includedir}/nnet
Libs: -L\${libdir} -lnnet
Libs.private: $native
PC
install -C -m 644 "$pc" "$lib/pkgconfig/nnet.pc"
echo "installed nnet $version into $destdir$prefix"
