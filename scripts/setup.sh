#!/bin/bash
# setup.sh - make this checkout ready to use: install the Debian packages the
# build and the tests need (only those missing), configure, build.
#
#   scripts/setup.sh                       run it
#   . scripts/setup.sh && lm_setup         what scripts/leakmark and test.sh do
#
# Build directory: $LEAKMARK_BUILD_DIR, default <repo>/build.  Configured once
# with cmake (with -DLEAKMARK_WERROR=ON when $CI is set; extra cmake
# arguments from $LEAKMARK_CMAKE_ARGS, which also force a re-configure),
# then built incrementally with `cmake --build -j2`.  Prints nothing when
# there is nothing to do; all its messages go to stderr, so that it can run
# in front of a program whose output matters.
#
# Packages are installed with apt-get as root (or through sudo when not
# root and sudo exists); otherwise it stops with one line naming them.

# Debian packages: build, unit tests, and the programs the integration
# tests run (python3 brings its sqlite3 module with libpython3.X-stdlib;
# chromium renders the analyzer's HTML page headless).
LM_PACKAGES=(cmake gcc g++ make pkg-config libunwind-dev libatomic-ops-dev libcmocka-dev libdw-dev
             python3 perl git xz-utils coreutils bash sqlite3 redis-server redis-tools chromium)

LM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LM_BUILD=${LEAKMARK_BUILD_DIR:-$LM_ROOT/build}
case $LM_BUILD in /*) ;; *) LM_BUILD=$PWD/$LM_BUILD ;; esac

lm_say() { echo "leakmark setup: $*" >&2; }

# Prints the packages of LM_PACKAGES that are not installed.
lm_missing_packages() {
    local p missing=()
    for p in "${LM_PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2> /dev/null)" != "ii " ]; then
            missing+=("$p")
        fi
    done
    echo "${missing[*]}"
}

lm_install_packages() {
    local missing sudo=()
    command -v dpkg-query > /dev/null || { lm_say "not a Debian system (no dpkg-query): install ${LM_PACKAGES[*]} yourself"; return 1; }
    missing=$(lm_missing_packages)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo > /dev/null; then
            sudo=(sudo)
        else
            lm_say "missing Debian packages, and not root (no sudo): apt-get install $missing"
            return 1
        fi
    fi
    lm_say "installing $missing"
    # shellcheck disable=SC2086
    if ! { "${sudo[@]}" apt-get update -qq &&
           "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } > /tmp/leakmark-apt.$$.log 2>&1; then
        cat /tmp/leakmark-apt.$$.log >&2
        rm -f /tmp/leakmark-apt.$$.log
        lm_say "apt-get failed for: $missing"
        return 1
    fi
    rm -f /tmp/leakmark-apt.$$.log
    missing=$(lm_missing_packages)
    if [ -n "$missing" ]; then
        lm_say "still missing after apt-get: $missing"
        return 1
    fi
}

# Configures when the build directory has no cache yet, when the CI setting
# changed, or when LEAKMARK_CMAKE_ARGS is given.
lm_configure() {
    local werror=OFF cache="$LM_BUILD/CMakeCache.txt" log
    [ -n "${CI:-}" ] && werror=ON
    if [ -f "$cache" ] && [ -z "${LEAKMARK_CMAKE_ARGS:-}" ] &&
        grep -qx "LEAKMARK_WERROR:BOOL=$werror" "$cache"; then
        return 0
    fi
    log=$(mktemp) || return 1
    # shellcheck disable=SC2086
    if ! cmake -S "$LM_ROOT" -B "$LM_BUILD" -DLEAKMARK_WERROR=$werror ${LEAKMARK_CMAKE_ARGS:-} > "$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        lm_say "cmake configure failed (build directory $LM_BUILD)"
        return 1
    fi
    rm -f "$log"
}

# Builds; on success shows only what is worth reading (warnings), not the
# progress lines.
lm_build() {
    local log st=0
    log=$(mktemp) || return 1
    cmake --build "$LM_BUILD" -j2 > "$log" 2>&1 || st=$?
    if [ "$st" != 0 ]; then
        cat "$log" >&2
        lm_say "build failed (build directory $LM_BUILD)"
    else
        grep -Ev '^\[ *[0-9]+%\] (Built target|Building|Linking|Generating)|^(Consolidate compiler generated dependencies|Scanning dependencies|gmake(\[[0-9]+\])?: (Entering|Leaving|Nothing to be done))|^-- ' "$log" >&2
    fi
    rm -f "$log"
    return "$st"
}

lm_setup() {
    lm_install_packages && lm_configure && lm_build
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    lm_setup
fi
