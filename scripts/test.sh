#!/bin/bash
# test.sh - the whole test suite: set up (missing Debian packages, configure,
# build), then ctest.  Extra arguments go to ctest, e.g.
#   scripts/test.sh -L unit          only the unit tests
#   scripts/test.sh -R integration.git -V
# Build directory: $LEAKMARK_BUILD_DIR (default <repo>/build).  Exit status
# is ctest's.
set -u
# shellcheck source=setup.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/setup.sh"
lm_setup || exit
ctest --test-dir "$LM_BUILD" --output-on-failure -j2 "$@"
