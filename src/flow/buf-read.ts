/**
 * `BufRead`: see `buf-read/index.ts` (the reader is split by concern in that folder). Kept so
 * that imports of this path go on working.
 * @module
 */
export * from "./buf-read/index.ts";
