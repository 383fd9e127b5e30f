import { describe, expect, test } from "vitest";
import {
  checkCount,
  checkDuration,
  checkFunction,
  checkHasMethod,
  checkInt,
  checkNonEmptyString,
  checkObject,
  checkOptionalBoolean,
  show,
} from "./checks.ts";

describe("show()", () => {
  test("quotes strings, so that they cannot pass for numbers", () => {
    expect(show("10")).toBe('"10"');
    expect(show("")).toBe('""');
    expect(show('a"b\n')).toBe('"a\\"b\\n"');
    expect(show("x".repeat(70))).toBe(`"${"x".repeat(60)}…"`);
  });

  test("prints the other primitives as they are, and names what is not", () => {
    expect([10, -0, Number.NaN, Infinity, 1n, true, undefined, null].map(show)).toEqual([
      "10",
      "-0",
      "NaN",
      "Infinity",
      "1n",
      "true",
      "undefined",
      "null",
    ]);
    expect(show(Symbol("s"))).toBe("Symbol(s)");
    expect(show(() => 1)).toBe("a function");
    expect(show(function named() {})).toBe("a function (named)");
    expect(show([1])).toBe("an array");
    expect(show({})).toBe("an object");
    expect(show(new Map())).toBe("an object (Map)");
  });
});

describe("checks", () => {
  test("checkCount() wants an integer > 0: TypeError for a non-number, RangeError else", () => {
    expect(checkCount("maxConnections", 3)).toBe(3);
    expect(() => checkCount("maxConnections", "10")).toThrow(
      new TypeError('maxConnections must be an integer > 0, got "10"'),
    );
    expect(() => checkCount("maxConnections", null)).toThrow(
      new TypeError("maxConnections must be an integer > 0, got null"),
    );
    expect(() => checkCount("maxConnections", 0)).toThrow(
      new RangeError("maxConnections must be an integer > 0, got 0"),
    );
    expect(() => checkCount("maxConnections", Infinity)).toThrow(RangeError);
    expect(checkCount("maxConnections", Infinity, true)).toBe(Infinity);
  });

  test("checkInt() names its range", () => {
    expect(checkInt("backlog", 0, 0, 10)).toBe(0);
    expect(() => checkInt("backlog", 1e9, 0, 65535)).toThrow(
      new RangeError("backlog must be an integer in 0..65535, got 1000000000"),
    );
    expect(() => checkInt("n", 1.5, 2, Infinity)).toThrow(
      new RangeError("n must be an integer >= 2, got 1.5"),
    );
  });

  test("checkDuration() takes ms >= 0", () => {
    expect(checkDuration("idle", 0)).toBe(0);
    expect(() => checkDuration("idle", -1)).toThrow(
      new RangeError("idle must be a number of ms >= 0, got -1"),
    );
    expect(() => checkDuration("idle", "5")).toThrow(
      new TypeError('idle must be a number of ms >= 0, got "5"'),
    );
    expect(() => checkDuration("idle", Infinity)).toThrow(RangeError);
    expect(checkDuration("idle", Infinity, true)).toBe(Infinity);
  });

  test("the type checks name the argument and the value", () => {
    expect(() => checkFunction("handler", null)).toThrow(
      new TypeError("handler must be a function, got null"),
    );
    expect(() => checkObject("options", undefined, "an object with onError")).toThrow(
      new TypeError("options must be an object with onError, got undefined"),
    );
    expect(() => checkObject("options", [])).toThrow(
      new TypeError("options must be an object, got an array"),
    );
    expect(() => checkHasMethod("listener", {}, "accept", "a ListeningSocket")).toThrow(
      new TypeError("listener must be a ListeningSocket, got an object"),
    );
    checkHasMethod("listener", { accept() {} }, "accept", "a ListeningSocket");
    expect(() => checkNonEmptyString("path", "")).toThrow(
      new RangeError('path must not be empty, got ""'),
    );
    expect(() => checkNonEmptyString("path", 1)).toThrow(
      new TypeError("path must be a string, got 1"),
    );
    expect(() => checkOptionalBoolean("reuseAddr", "yes")).toThrow(
      new TypeError('reuseAddr must be a boolean, got "yes"'),
    );
    checkOptionalBoolean("reuseAddr", undefined);
  });
});
