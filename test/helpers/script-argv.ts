/**
 * The command line that runs a script (TypeScript included) on the runtime running the tests,
 * for a child started through a shell (`sh -c '... exec "$@"'`), where Deno's node:child_process
 * cannot add `run -A` to `process.execPath` for us as it does for a direct spawn.
 */
import { runtime } from "../../src/core/runtime.ts";

/** `[execPath, script]` on Node and Bun; `[execPath, "run", "-A", script]` on Deno. */
export function scriptArgv(script: string): string[] {
  return runtime.name === "deno"
    ? [process.execPath, "run", "-A", script]
    : [process.execPath, script];
}
