/** The errno table of the Node backend. */
import { describe, expect, test } from "vitest";
import { IoError } from "../core/index.ts";
import { classify, closedError, errorCode, toIoError } from "./errors.ts";

function nodeError(code: string, syscall = "connect"): Error {
  return Object.assign(new Error(`${syscall} ${code} x`), { code, syscall });
}

describe("the errno table", () => {
  test.each([
    ["ECONNREFUSED", "connect", { kind: "ConnectionFailure", reason: "Refused" }],
    ["ETIMEDOUT", "connect", { kind: "ConnectionFailure", reason: "Timeout" }],
    ["ECONNRESET", "read", { kind: "ConnectionReset" }],
    ["EPIPE", "write", { kind: "ConnectionReset" }],
    ["ECONNABORTED", "read", { kind: "ConnectionReset" }],
    ["ENOTCONN", "write", { kind: "ConnectionReset" }],
    ["ENOTCONN", "shutdown", { kind: "Unknown" }],
    ["ENOENT", "connect", { kind: "NotFound" }],
    ["EACCES", "listen", { kind: "PermissionDenied" }],
    ["EPERM", "bind", { kind: "PermissionDenied" }],
    ["EADDRINUSE", "listen", { kind: "AddressInUse" }],
    ["EEXIST", "bind", { kind: "AlreadyExists" }],
    ["ERR_STREAM_DESTROYED", "write", { kind: "Closed" }],
    ["EHOSTUNREACH", "connect", { kind: "Unknown" }],
  ])("%s (%s) -> %o", (code, syscall, want) => {
    const cause = nodeError(code, syscall);
    expect(classify(cause)).toEqual({ ...want, cause });
  });

  test("toIoError() keeps an IoError and wraps anything else as Unknown", () => {
    const io = new IoError({ kind: "NotFound" });
    expect(toIoError(io)).toBe(io);
    const e = toIoError("weird");
    expect(e.err).toEqual({ kind: "Unknown", cause: "weird" });
    expect(e.message).toBe("Io Unknown: weird");
  });
});

describe("helpers", () => {
  test("errorCode() reads a string code, or nothing", () => {
    expect(errorCode(nodeError("EPIPE"))).toBe("EPIPE");
    expect(errorCode({ code: 42 })).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
  });

  test("closedError() is an IoError Closed naming the operation", () => {
    const e = closedError("read");
    expect(e).toBeInstanceOf(IoError);
    expect(e.err.kind).toBe("Closed");
    expect(e.message).toBe("Net Closed: read: socket is closed");
  });

  test("the message of a mapped error is Eio's: category, kind, cause", () => {
    expect(toIoError(nodeError("ECONNREFUSED")).message).toBe(
      "Net ConnectionFailure Refused: connect ECONNREFUSED x",
    );
    expect(toIoError(nodeError("ENOENT")).message).toBe("Fs NotFound: connect ENOENT x");
  });
});
