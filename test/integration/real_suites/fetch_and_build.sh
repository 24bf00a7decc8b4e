#!/usr/bin/env bash
# Fetches the Debian sources of three C/C++ libraries with `apt-get source`, builds each with its own
# test programs, and lists the test binaries to run, one per line: NAME<TAB>WORKING-DIR<TAB>BINARY ARGS...
# (real_suites_test.py runs each under heapsnap and under LeakSanitizer).
#
#   fetch_and_build.sh CACHE_DIR      e.g. build/real_suites; a second call reuses what is there
#
# Needs deb-src entries in the apt sources and dpkg-dev (scripts/setup enables and installs both).
# Built with -O1 -g -fno-omit-frame-pointer and no sanitizer: the same binaries run under every tool.
set -euo pipefail

cache=${1:?usage: fetch_and_build.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
jobs=$(nproc)
flags="-O1 -g -fno-omit-frame-pointer"

# apt-get source SOURCE-PACKAGE into $cache/src/SOURCE-PACKAGE (once); prints the unpacked directory.
fetch() {
  local package=$1 dir="$cache/src/$1"
  if [[ ! -f "$dir/.fetched" ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && apt-get source -qq "$package" >/dev/null 2>"$dir/apt-get.log") || {
      cat "$dir/apt-get.log" >&2
      echo "fetch_and_build.sh: apt-get source $package failed (deb-src entries? scripts/setup adds them)" >&2
      exit 1
    }
    touch "$dir/.fetched"
  fi
  find "$dir" -mindepth 1 -maxdepth 1 -type d | head -1
}

# cmake configure + build of SOURCE into $cache/build/NAME (ninja rebuilds nothing when nothing changed).
cmake_build() {
  local name=$1 source=$2
  shift 2
  cmake -S "$source" -B "$cache/build/$name" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_CXX_FLAGS="$flags" -DBUILD_SHARED_LIBS=OFF "$@" >"$cache/build/$name.configure.log" 2>&1 ||
    { cat "$cache/build/$name.configure.log" >&2; exit 1; }
  cmake --build "$cache/build/$name" -j"$jobs" >"$cache/build/$name.build.log" 2>&1 ||
    { tail -40 "$cache/build/$name.build.log" >&2; exit 1; }
}

mkdir -p "$cache/build"

# tinyxml2: one test program, xmltest, run from the source directory (it reads resources/ and writes
# resources/out/).
tinyxml2=$(fetch tinyxml2)
if [[ ! -x "$cache/build/tinyxml2/xmltest" || "$tinyxml2/xmltest.cpp" -nt "$cache/build/tinyxml2/xmltest" ]]; then
  mkdir -p "$cache/build/tinyxml2"
  g++ $flags -o "$cache/build/tinyxml2/xmltest" "$tinyxml2/tinyxml2.cpp" "$tinyxml2/xmltest.cpp"
fi
mkdir -p "$tinyxml2/resources/out"
printf 'tinyxml2 xmltest\t%s\t%s\n' "$tinyxml2" "$cache/build/tinyxml2/xmltest"

# jsoncpp: the unit tests (jsoncpp_test), and the reader/writer runner on one of its test inputs.
jsoncpp=$(fetch libjsoncpp)
cmake_build jsoncpp "$jsoncpp" -DJSONCPP_WITH_TESTS=ON -DJSONCPP_WITH_POST_BUILD_UNITTEST=OFF \
  -DJSONCPP_WITH_PKGCONFIG_SUPPORT=OFF -DJSONCPP_WITH_CMAKE_PACKAGE=OFF -DBUILD_OBJECT_LIBS=OFF
printf 'jsoncpp jsoncpp_test\t%s\t%s\n' "$cache/build/jsoncpp" "$(find "$cache/build/jsoncpp" -name jsoncpp_test -type f -perm -u+x | head -1)"

# cJSON: every unit-test program of tests/ (Unity), each its own executable.
cjson=$(fetch cjson)
cmake_build cjson "$cjson" -DENABLE_CJSON_TEST=ON -DENABLE_CJSON_UTILS=ON -DENABLE_SANITIZERS=OFF \
  -DENABLE_VALGRIND=OFF -DENABLE_CUSTOM_COMPILER_FLAGS=OFF -DENABLE_TARGET_EXPORT=OFF
for test in $(find "$cache/build/cjson/tests" -maxdepth 1 -type f -perm -u+x | sort); do
  printf 'cjson %s\t%s\t%s\n' "$(basename "$test")" "$cjson/tests" "$test"
done
