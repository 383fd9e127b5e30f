#!/bin/sh
# npm run test:node22: the whole `npm test` suite on the lowest Node that package.json's
# `engines` claims (22.12.0), fetched from the npm registry's `node` package. Node 22.12 runs
# the .ts sources that the tests start in child processes and workers only with type
# stripping turned on, hence NODE_OPTIONS; the CLI, which uses `using` declarations (syntax
# that Node 22 does not parse), runs from the build, as users of Node 22 run it.
set -eu
cd "$(dirname "$0")/.."
VERSION=22.12.0
exec npm exec --yes --package="node@$VERSION" -- sh -c '
  set -eu
  v=$(node --version)
  [ "$v" = "v'"$VERSION"'" ] || { echo "test:node22: expected node v'"$VERSION"', got $v" >&2; exit 1; }
  echo "test:node22: running the suite on node $v"
  NODE_OPTIONS="--experimental-strip-types --disable-warning=ExperimentalWarning" \
    WEIR_CLI_MAIN="$PWD/dist/cli/main.js" node node_modules/vitest/vitest.mjs run
'
