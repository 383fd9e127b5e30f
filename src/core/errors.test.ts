/**
 * The errors of weir: `IoError`'s message format and context (Eio's `Exn`, tests/exn.md),
 * `Cancelled`, and the rules of `combineErrors`.
 */
import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import {
  BufferLimitExceeded,
  Cancelled,
  combineErrors,
  describeCause,
  EndOfFile,
  formatIoErr,
  IoError,
  isCancelled,
  isIoError,
  suppressedErrors,
} from "./errors.ts";
import { formatError } from "./test-helpers/trace.ts";

const refused = () =>
  new IoError({
    kind: "ConnectionFailure",
    reason: "Refused",
    cause: new Error("connect ECONNREFUSED 1.2.3.4:8080"),
  });

describe("IoError", () => {
  test("IoError's message is the head line then the context lines, as Eio prints it", () => {
    const e = refused();
    e.addContext("connecting to tcp:1.2.3.4:8080");
    e.addContext('connecting to "www.example.com":http');
    expect(e.message).toBe(
      [
        "Net ConnectionFailure Refused: connect ECONNREFUSED 1.2.3.4:8080",
        "  connecting to tcp:1.2.3.4:8080",
        '  connecting to "www.example.com":http',
      ].join("\n"),
    );
    expect(e.context).toEqual([
      "connecting to tcp:1.2.3.4:8080",
      'connecting to "www.example.com":http',
    ]);
    expect(e.name).toBe("IoError");
    expect(e).toBeInstanceOf(Error);
  });

  test("new IoError(err, context) takes the context lines innermost first", () => {
    const ctx = ["inner", "outer"];
    const e = new IoError({ kind: "NotFound" }, ctx);
    expect(e.message).toBe("Fs NotFound\n  inner\n  outer");
    ctx.push("not shared");
    expect(e.context).toEqual(["inner", "outer"]);
  });

  test("e.addContext() returns the error, so it can be rethrown", () => {
    const e = refused();
    expect(e.addContext("x")).toBe(e);
  });

  test("e.addContext() also updates a stack that was already read", () => {
    const e = new IoError({ kind: "AddressInUse" }, ["binding"]);
    expect(e.stack?.split("\n").slice(0, 2)).toEqual(["IoError: Net AddressInUse", "  binding"]);
    e.addContext("starting server");
    expect(e.stack?.split("\n").slice(0, 3)).toEqual([
      "IoError: Net AddressInUse",
      "  binding",
      "  starting server",
    ]);
    expect(e.stack?.split("\n")[3]).toMatch(/^ {4}at /);
    expect(inspect(e).split("\n").slice(0, 3)).toEqual([
      "IoError: Net AddressInUse",
      "  binding",
      "  starting server",
    ]);
  });

  test("e.addContext() on an error whose stack was never read shows each line once", () => {
    const e = new IoError({ kind: "NotFound" });
    e.addContext("a");
    e.addContext("b");
    expect(e.stack?.split("\n").slice(0, 4)).toEqual([
      "IoError: Fs NotFound",
      "  a",
      "  b",
      expect.stringMatching(/^ {4}at /),
    ]);
  });

  test("the head line names the category, the kind, the reason and the cause", () => {
    const heads = [
      formatIoErr({ kind: "ConnectionReset", cause: new Error("read ECONNRESET") }),
      formatIoErr({ kind: "ConnectionFailure", reason: "NoMatchingAddresses" }),
      formatIoErr({ kind: "ConnectionFailure", reason: "Timeout" }),
      formatIoErr({ kind: "NotFound" }),
      formatIoErr({ kind: "PermissionDenied", cause: "EACCES" }),
      formatIoErr({ kind: "AddressInUse", cause: { code: "EADDRINUSE" } }),
      formatIoErr({ kind: "AlreadyExists" }),
      formatIoErr({ kind: "Closed" }),
      formatIoErr({ kind: "Unknown", cause: new Error("EWHATEVER") }),
    ];
    expect(heads).toEqual([
      "Net ConnectionReset: read ECONNRESET",
      "Net ConnectionFailure NoMatchingAddresses",
      "Net ConnectionFailure Timeout",
      "Fs NotFound",
      "Fs PermissionDenied: EACCES",
      'Net AddressInUse: {"code":"EADDRINUSE"}',
      "Fs AlreadyExists",
      "Net Closed",
      "Io Unknown: EWHATEVER",
    ]);
  });

  test("IoError keeps the backend error as cause", () => {
    const cause = new Error("boom");
    expect(new IoError({ kind: "Unknown", cause }).cause).toBe(cause);
    expect("cause" in new IoError({ kind: "NotFound" })).toBe(false);
  });

  test("describeCause() describes errors, strings and other values in one line", () => {
    const circular: { self?: unknown } = {};
    circular.self = circular;
    expect(describeCause(new Error("m"))).toBe("m");
    expect(describeCause("s")).toBe("s");
    expect(describeCause(undefined)).toBe("");
    expect(describeCause(42)).toBe("42");
    expect(describeCause(circular)).toBe("[object Object]");
    expect(describeCause(Symbol("x"))).toBe("Symbol(x)");
  });

  test("isIoError() tells IoErrors apart, optionally by kind", () => {
    const e = refused();
    expect(isIoError(e)).toBe(true);
    expect(isIoError(e, "ConnectionFailure")).toBe(true);
    expect(isIoError(e, "NotFound")).toBe(false);
    expect(isIoError(new Error("x"))).toBe(false);
  });
});

describe("Cancelled and the other error classes", () => {
  test("Cancelled keeps the reason as cause and in its message", () => {
    const reason = new Error("why");
    const e = new Cancelled(reason);
    expect(e.cause).toBe(reason);
    expect(e.message).toBe("Cancelled: why");
    expect(e.name).toBe("Cancelled");
    expect(isCancelled(e)).toBe(true);
    expect(isCancelled(reason)).toBe(false);
    expect(new Cancelled().message).toBe("Cancelled");
    expect("cause" in new Cancelled()).toBe(false);
  });

  test("EndOfFile, BufferLimitExceeded have names and default messages", () => {
    expect(String(new EndOfFile())).toBe("EndOfFile: End of file");
    expect(String(new BufferLimitExceeded())).toBe(
      "BufferLimitExceeded: Buffer size limit exceeded",
    );
  });
});

describe("combineErrors", () => {
  test("combineErrors() keeps the first error and the later one on it (exn.md: regular errors)", () => {
    const a = new Error("a");
    const b = new Error("b");
    expect(combineErrors(a, b)).toBe(a);
    expect(suppressedErrors(a)).toEqual([b]);
    expect(formatError(a)).toBe("Multiple exceptions:\n- Error: a\n- Error: b");
  });

  test("combineErrors() keeps every later error, in order", () => {
    const [a, b, c] = ["a", "b", "c"].map((m) => new Error(m)) as [Error, Error, Error];
    combineErrors(combineErrors(a, b), c);
    expect(suppressedErrors(a)).toEqual([b, c]);
  });

  test("combineErrors() of an IoError and a regular error keeps both (exn.md)", () => {
    const a = new Error("a");
    const io = new IoError({ kind: "NotFound" }, ["opening file 'foo'"]);
    expect(formatError(combineErrors(a, io)).split("\n")).toEqual([
      "Multiple exceptions:",
      "- Error: a",
      "- IoError: Fs NotFound",
      "    opening file 'foo'",
    ]);
  });

  test("combineErrors() drops a Cancelled in favour of a real error, either way round", () => {
    const real = new Error("real");
    const c = new Cancelled(new Error("why"));
    expect(combineErrors(c, real)).toBe(real);
    expect(combineErrors(real, c)).toBe(real);
    expect(suppressedErrors(real)).toEqual([]);
  });

  test("combineErrors() of two Cancelled keeps the first", () => {
    const c1 = new Cancelled("1");
    const c2 = new Cancelled("2");
    expect(combineErrors(c1, c2)).toBe(c1);
    expect(suppressedErrors(c1)).toEqual([]);
  });

  test("combineErrors() of an error with itself is that error", () => {
    const a = new Error("a");
    expect(combineErrors(a, a)).toBe(a);
    expect(suppressedErrors(a)).toEqual([]);
  });

  test("combineErrors() makes an AggregateError when the first cannot hold the later", () => {
    const frozen = Object.freeze(new Error("frozen"));
    const b = new Error("b");
    const r1 = combineErrors(frozen, b);
    expect(r1).toBeInstanceOf(AggregateError);
    expect((r1 as AggregateError).errors).toEqual([frozen, b]);
    const r2 = combineErrors("a string", b);
    expect((r2 as AggregateError).errors).toEqual(["a string", b]);
  });

  test("suppressedErrors() is empty for anything that kept nothing", () => {
    expect(suppressedErrors(new Error("x"))).toEqual([]);
    expect(suppressedErrors(null)).toEqual([]);
    expect(suppressedErrors("s")).toEqual([]);
    expect(suppressedErrors({ suppressed: "not a list" })).toEqual([]);
  });
});
