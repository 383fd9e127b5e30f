/**
 * The error of a parser that met input it did not expect.
 * @module
 */

/**
 * A parser failed: the input is not what it expected (Eio's `Failure`). Readers such as
 * {@link BufReader.char} throw it with a short message (`Expected 'A' but got 'a'`);
 * {@link BufRead.parse} throws it with the full message, position included
 * (`Expected 'A' but got 'a' (at offset 0)`). Throw it from your own parsers too.
 * @example
 * ```ts
 * if (version !== 1) throw new ParseError(`unsupported version ${version}`);
 * ```
 */
export class ParseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ParseError";
  }
}
