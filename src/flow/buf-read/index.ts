/**
 * `BufRead` (Eio's `Buf_read`): a buffered reader over a `Source`, with non-backtracking parsers
 * for text (UTF-8 strings) and binary data, and a bounded buffer. Split by concern: the buffer
 * core (`reader.ts`), the text readers (`text.ts`), the binary readers (`binary.ts`, which
 * completes `BufReader`), and parsing (`parse.ts`).
 *
 * A parser is an async function `(r: BufReader) => Promise<T>`: Eio's combinators `map`, `pair`,
 * `bind`, `<*`, `*>` and its `let*` syntax are what `await` already does
 * (`async (r) => { await r.string("FROM:"); return r.takeAll(); }`), so only `map` and `pair` are
 * kept, for short point-free parsers.
 * @module
 */
export { BufReader } from "./binary.ts";
export { ParseError } from "./errors.ts";
export { BufRead, type ParseResult, type Parser } from "./parse.ts";
export type { BufReadOptions } from "./reader.ts";
