#!/usr/bin/env bash
# tests/install/test_install.sh - cairn installed as a user installs it,
# then used as a user uses it (README.md, "Install"):
#   1. `cmake --install BUILD --prefix P` into a temporary prefix puts
#      the command, libcairn.so (SONAME libcairn.so.0, the public API
#      only), the headers, cairn.pc, the CMake package, the docs, cairn(1)
#      (it renders) and the systemd unit (pointing at P/bin/cairn) in
#      place;
#   2. every C program of examples/ builds out of tree against P with
#      `pkg-config --cflags --libs cairn` (-std=c11 -Werror) and runs, readme
#      with libcairn.a and `pkg-config --static`, and both again as a
#      CMake project with find_package(cairn) (cairn::cairn,
#      cairn::cairn_static);
#   3. each durable_spec loads examples/counter.json with cairn_spec_load,
#      runs in RocksDB, is killed (SIGKILL) mid-way and, started again,
#      resumes the run and prints what an uninterrupted run prints;
#   4. examples/plugin builds out of tree (find_package) and the
#      installed command runs a spec with it;
#   5. `xargs rm < install_manifest.txt` leaves no file in P.
#   test_install.sh SOURCE_ROOT BUILD_DIR CMAKE C_COMPILER
set -euo pipefail
src=$1
build=$2
cmake=$3
cc=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-install.XXXXXX")
# cmake --install writes BUILD/install_manifest.txt: the manifest of a
# real install there (what make uninstall reads) is put back at the end.
manifest=$build/install_manifest.txt
if [[ -f $manifest ]]; then
    cp "$manifest" "$tmp/manifest.saved"
    trap 'mv "$tmp/manifest.saved" "$manifest"; rm -rf "$tmp"' EXIT
else
    trap 'rm -f "$manifest"; rm -rf "$tmp"' EXIT
fi
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
cp "$manifest" "$tmp/manifest"
for f in bin/cairn lib/libcairn.so lib/libcairn.so.0 lib/libcairn.so.0.1.0 \
         include/cairn/cairn.h include/cairn/spec.h lib/pkgconfig/cairn.pc \
         lib/cmake/cairn/cairnConfig.cmake lib/cmake/cairn/cairnTargets.cmake \
         share/doc/cairn/README.md share/doc/cairn/LICENSE share/doc/cairn/architecture.md \
         lib/systemd/system/cairn-recover.service share/man/man1/cairn.1.gz \
         share/bash-completion/completions/cairn; do
    [[ -e $prefix/$f ]] || fail "$f not installed"
    grep -qxF "$prefix/$f" "$tmp/manifest" || fail "$f not in the manifest"
done
lib=$prefix/lib/libcairn.so.0.1.0
# (grep reads all its input: grep -q could end it early, and pipefail
# take the writer's SIGPIPE for a failure.)
objdump -p "$lib" | grep -E 'SONAME +libcairn\.so\.0$' >/dev/null || fail "SONAME"
# Exported: the public API (cairn_*, never an internal cairn__*), and
# zclock_log, which base/log.c defines in czmq's place on purpose.
other=$(nm -D --defined-only "$lib" | awk '{print $3}' |
        grep -Ev '^cairn_[a-z0-9]|^zclock_log$' || true)
[[ -z $other ]] || fail "libcairn.so exports more than the API: $other"
grep -q "^ExecStart=$prefix/bin/cairn recover " \
    "$prefix/lib/systemd/system/cairn-recover.service" ||
    fail "the systemd unit does not run $prefix/bin/cairn"
# The installed cairn(1) renders and documents run's options.
MANWIDTH=80 man -l "$prefix/share/man/man1/cairn.1.gz" 2>/dev/null |
    grep -- '--max-supersteps' >/dev/null || fail "man cairn does not render run's options"

# Kills durable_spec (binary $1) on counter.json mid-way once a checkpoint
# is stored, starts it again and expects the uninterrupted run's output.
s_killed_and_resumed() {
    local bin=$1 db=$tmp/db-$(basename "$1")
    "$bin" "$src/examples/counter.json" "$db" c 0 >"$tmp/first.out" 2>&1 &
    local pid=$! i
    for ((i = 0; i < 600; i++)); do
        if "$prefix/bin/cairn" checkpoints c --db "$db" 2>/dev/null |
            grep 'c@' >/dev/null; then
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null || fail "$bin ended before it was killed: $(cat "$tmp/first.out")"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    "$bin" "$src/examples/counter.json" "$db" c 0 >"$tmp/out" 2>"$tmp/err" ||
        fail "$bin did not complete on resume: $(cat "$tmp/err")"
    grep -q '^resuming c$' "$tmp/err" || fail "$bin did not resume: $(cat "$tmp/err")"
    [[ $(cat "$tmp/out") == 101 ]] || fail "$bin printed $(cat "$tmp/out"), not 101"
    echo "$bin: killed, resumed, 101"
}

echo "== pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs cairn)
for prog in durable_spec readme run_spec text_pipeline; do
    # shellcheck disable=SC2086 # flags are words
    "$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/$prog.c" -o "$tmp/$prog" \
        $flags -Wl,-rpath,"$prefix/lib"
done
ldd "$tmp/durable_spec" | grep "libcairn.so.0 => $prefix/lib/" >/dev/null ||
    fail "durable_spec does not load the installed libcairn.so.0"
s_killed_and_resumed "$tmp/durable_spec"
[[ $("$tmp/run_spec" "$src/examples/text-pipeline.json" "hello world") == "dlrow olleh" ]] ||
    fail "run_spec did not print dlrow olleh"
"$tmp/text_pipeline" >"$tmp/pipeline.out" || fail "text_pipeline failed"
grep -x '.*dlrow olleh.*' "$tmp/pipeline.out" >/dev/null || fail "text_pipeline: $(cat "$tmp/pipeline.out")"
# libcairn.a with what `pkg-config --static` adds (Requires.private,
# Libs.private): a directory holding only the archive comes first.
mkdir "$tmp/static"
ln -s "$prefix/lib/libcairn.a" "$tmp/static/libcairn.a"
static_flags=$(pkg-config --static --cflags --libs cairn)
# Debian 12's norm.pc (libzmq's) lists a bare "libprotokit.a", a path
# relative to wherever the link runs: it means the one in its libdir.
static_flags=${static_flags//" libprotokit.a"/" $(pkg-config --variable=libdir norm)/libprotokit.a"}
# shellcheck disable=SC2086 # flags are words
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/readme.c" -o "$tmp/readme_static" \
    -L"$tmp/static" $static_flags
ldd "$tmp/readme_static" | grep libcairn >/dev/null && fail "readme_static loads libcairn.so"
for prog in readme readme_static; do
    (cd "$tmp" && rm -rf .cairn && "./$prog" && "./$prog") >"$tmp/readme.out"
    [[ $(cat "$tmp/readme.out") == $'HELLO\nHELLO' ]] || fail "$prog printed $(cat "$tmp/readme.out")"
done

echo "== find_package(cairn)"
mkdir "$tmp/user"
cat >"$tmp/user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.21)
project(user LANGUAGES C)
find_package(cairn 0.1 REQUIRED)
add_executable(durable_spec_cmake $src/examples/durable_spec.c)
target_compile_options(durable_spec_cmake PRIVATE -Wall -Wextra -Werror)
target_link_libraries(durable_spec_cmake PRIVATE cairn::cairn)
add_executable(readme_cmake_static $src/examples/readme.c)
target_link_libraries(readme_cmake_static PRIVATE cairn::cairn_static)
CMAKE
"$cmake" -S "$tmp/user" -B "$tmp/user/build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/user.log" || { cat "$tmp/user.log"; fail "configure"; }
"$cmake" --build "$tmp/user/build" >>"$tmp/user.log" || { cat "$tmp/user.log"; fail "build"; }
s_killed_and_resumed "$tmp/user/build/durable_spec_cmake"
(cd "$tmp" && rm -rf .cairn && user/build/readme_cmake_static) >"$tmp/readme.out"
[[ $(cat "$tmp/readme.out") == HELLO ]] || fail "readme_cmake_static printed $(cat "$tmp/readme.out")"

echo "== the plugin, out of tree"
"$cmake" -S "$src/examples/plugin" -B "$tmp/plugin" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" \
    -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/plugin.log" || { cat "$tmp/plugin.log"; fail "configure"; }
"$cmake" --build "$tmp/plugin" >>"$tmp/plugin.log" || { cat "$tmp/plugin.log"; fail "build"; }
out=$(cd "$tmp" && "$prefix/bin/cairn" run "$src/examples/plugin/greet.json" \
      --plugin "$tmp/plugin/libcairn_greet.so" --input "tea please" --durability none 2>/dev/null)
[[ $out == "hello, tea please" ]] || fail "the plugin's run printed '$out'"

echo "== uninstall"
xargs -d '\n' rm -f <"$tmp/manifest"
left=$(find "$prefix" ! -type d)
[[ -z $left ]] || fail "left after uninstall: $left"
echo "test_install: installed, built against (pkg-config, find_package), resumed, uninstalled"
