#!/bin/sh
# npm run test:runtimes: the public-API suites (vitest.runtimes.config.ts: the conformance
# suite, the seed transcripts, Tcp, the README tour, the examples, the runtime differences) on
# Bun and on Deno, whose binaries come from the `bun` and `deno` dev dependencies. vitest itself
# runs on each runtime, and so do the test files and the programs they start
# (process.execPath). Bun runs vitest's worker threads one file at a time (its child processes
# lack what vitest's forks need: an IPC channel that unrefs); Deno runs vitest's forks.
# `npm run test:runtimes -- bun` (or deno) runs one; extra arguments go to vitest.
set -eu
cd "$(dirname "$0")/.."
BIN="$PWD/node_modules/.bin"
runtimes="bun deno"
case "${1:-}" in bun | deno) runtimes="$1"; shift ;; esac
status=0
for rt in $runtimes; do
  case "$rt" in
    bun)
      v=$("$BIN/bun" --version)
      echo "test:runtimes: the public-API suites on bun $v"
      "$BIN/bun" --bun node_modules/vitest/vitest.mjs run --config vitest.runtimes.config.ts \
        --pool=threads --no-file-parallelism "$@" || status=1
      ;;
    deno)
      v=$("$BIN/deno" --version | head -1)
      echo "test:runtimes: the public-API suites on $v"
      "$BIN/deno" run -A node_modules/vitest/vitest.mjs run --config vitest.runtimes.config.ts \
        "$@" || status=1
      ;;
  esac
done
exit $status
