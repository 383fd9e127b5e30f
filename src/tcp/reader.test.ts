import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
import { Cancel, Cancelled, IoError } from "../core/index.ts";
import { BufRead } from "../flow/buf-read/index.ts";
import { ReaderBusy } from "./errors.ts";
import { Reader } from "./reader.ts";
import { TestSource } from "./test-helpers/doubles.ts";

const both = [
  ["readInto source", false],
  ["readChunk source", true],
] as const;

describe.each(both)("Reader over a %s", (_name, chunks) => {
  const src = (): TestSource => new TestSource({ chunks });

  test("readLine() returns lines without their newline, \\r\\n included, then null", async () => {
    const s = src().push("one\ntwo\r\nthr", "ee\r", "\nlast").end();
    const r = new Reader(s);
    expect(await r.readLine()).toBe("one");
    expect(await r.readLine()).toBe("two");
    expect(await r.readLine()).toBe("three");
    expect(await r.readLine()).toBe("last");
    expect(await r.readLine()).toBeNull();
    expect(await r.readLine()).toBeNull();
  });

  test("readLine() keeps an empty line and decodes UTF-8 split across chunks", async () => {
    const e = Buffer.from("é");
    const s = src()
      .push("\n", Buffer.concat([Buffer.from("caf"), e.subarray(0, 1)]), e.subarray(1), "\n")
      .end();
    const r = new Reader(s);
    expect(await r.readLine()).toBe("");
    expect(await r.readLine()).toBe("café");
    expect(await r.readLine()).toBeNull();
  });

  test("lines() iterates over the remaining lines", async () => {
    const r = new Reader(src().push("a\nb\n", "c").end());
    const got: string[] = [];
    for await (const l of r.lines()) got.push(l);
    expect(got).toEqual(["a", "b", "c"]);
  });

  test("readChar() reads whole UTF-8 characters, across chunks, and U+FFFD for bad bytes", async () => {
    const euro = Buffer.from("€");
    const s = src()
      .push("a", euro.subarray(0, 2), euro.subarray(2), Buffer.from([0xff, 0xe2, 0x41]))
      .end();
    const r = new Reader(s);
    expect(await r.readChar()).toBe("a");
    expect(await r.readChar()).toBe("€");
    expect(await r.readChar()).toBe("\uFFFD");
    expect(await r.readChar()).toBe("\uFFFD");
    expect(await r.readChar()).toBe("A");
    expect(await r.readChar()).toBeNull();
  });

  test("readChar() at end of file in the middle of a character gives one U+FFFD", async () => {
    const r = new Reader(src().push(Buffer.from("😀").subarray(0, 2)).end());
    expect(await r.readChar()).toBe("\uFFFD");
    expect(await r.readChar()).toBeNull();
  });

  test("readChar(), readLine() and BufRead decode a bad sequence alike: E2 82 41 is U+FFFD then A", async () => {
    const bad = Buffer.from([0xe2, 0x82, 0x41]);
    const r = new Reader(src().push(bad, bad, "\n").end());
    expect(await r.readChar()).toBe("\uFFFD");
    expect(await r.readChar()).toBe("A");
    expect(await r.readLine()).toBe("\uFFFDA");
    expect(await BufRead.parseBytes((b) => b.takeAll(), bad)).toBe("\uFFFDA");
  });

  test("read(buf) returns what the reader holds first, then reads, then null", async () => {
    const r = new Reader(src().push("hello\nworld").end());
    expect(await r.readLine()).toBe("hello");
    const buf = new Uint8Array(3);
    expect(await r.read(buf)).toBe(3);
    expect(Buffer.from(buf).toString()).toBe("wor");
    expect(await r.read(buf)).toBe(2);
    expect(Buffer.from(buf.subarray(0, 2)).toString()).toBe("ld");
    expect(await r.read(buf)).toBeNull();
    expect(await r.read(new Uint8Array(0))).toBe(0);
    await expect(r.read("x" as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });

  test("readUntil() stops at a character or a byte predicate, with or without it", async () => {
    const r = new Reader(src().push("key=val", "ue;k2=v2,rest").end());
    expect(await r.readUntil("=")).toBe("key");
    expect(await r.readUntil(";", { keepDelim: true })).toBe("value;");
    expect(await r.readUntil((b) => b === 0x2c || b === 0x3b)).toBe("k2=v2");
    expect(await r.readUntil("=")).toBe("rest");
    expect(await r.readUntil("=")).toBeNull();
    await expect(r.readUntil("ab")).rejects.toThrow(/delim must be a one-character string/);
  });

  test("readUntil() finds a multi-byte delimiter that straddles two chunks", async () => {
    const sep = Buffer.from("→");
    const r = new Reader(
      src()
        .push(Buffer.concat([Buffer.from("left"), sep.subarray(0, 1)]), sep.subarray(1), "right")
        .end(),
    );
    expect(await r.readUntil("→")).toBe("left");
    expect(await r.contents()).toBe("right");
  });

  test("contents() reads everything to end of file", async () => {
    const r = new Reader(src().push("x\n", "y", "", "z").end());
    expect(await r.readLine()).toBe("x");
    expect(await r.contents()).toBe("yz");
    expect(await r.contents()).toBe("");
  });

  test("readChunk() hands out what it holds, then the source's chunks, then null", async () => {
    const s = src().push("ab\ncd", "ef").end();
    const r = new Reader(s);
    expect(await r.readLine()).toBe("ab");
    expect(Buffer.from((await r.readChunk()) as Uint8Array).toString()).toBe("cd");
    expect(Buffer.from((await r.readChunk()) as Uint8Array).toString()).toBe("ef");
    expect(await r.readChunk()).toBeNull();
  });

  test("a second read while one is running throws ReaderBusy", async () => {
    const s = src();
    const r = new Reader(s);
    const first = r.readLine();
    await expect(r.readLine()).rejects.toThrow(ReaderBusy);
    await expect(r.readChar()).rejects.toThrow(/one read at a time/);
    s.push("done\n");
    expect(await first).toBe("done");
  });

  test("a cancelled readLine() loses nothing: the next read gets the whole line", async () => {
    const s = src().push("par");
    const r = new Reader(s);
    await expect(
      Cancel.sub(async (scope) => {
        const p = r.readLine();
        await new Promise((res) => setImmediate(res));
        scope.cancel(new Error("stop"));
        return await p;
      }),
    ).rejects.toThrow(Cancelled);
    s.push("tial\n");
    expect(await r.readLine()).toBe("partial");
  });

  test("a reset connection reads as end of file, as in Async", async () => {
    const reset = new IoError({ kind: "ConnectionReset", cause: new Error("read ECONNRESET") });
    const r = new Reader(src().push("last\n").fail(reset));
    expect(await r.readLine()).toBe("last");
    expect(await r.readLine()).toBeNull();
  });

  test("other source errors are thrown", async () => {
    const boom = new IoError({ kind: "Unknown", cause: new Error("boom") });
    const r = new Reader(src().fail(boom));
    await expect(r.readLine()).rejects.toBe(boom);
  });

  test("close() closes the source, once; reads after it fail with IoError Closed", async () => {
    const s = src().push("x\n");
    const r = new Reader(s);
    const p1 = r.close();
    expect(r.close()).toBe(p1);
    await p1;
    expect(s.closed).toBe(true);
    expect(r.isClosed).toBe(true);
    await expect(r.readLine()).rejects.toMatchObject({ err: { kind: "Closed" } });
  });

  test("await using closes the reader", async () => {
    const s = src();
    {
      await using r = new Reader(s);
      expect(r.isClosed).toBe(false);
    }
    expect(s.closed).toBe(true);
  });
});

describe("Reader buffer", () => {
  test("is allocated lazily, with bufferSize bytes, only for a source without readChunk", async () => {
    const s = new TestSource().push("abc\n").end();
    const r = new Reader(s, { bufferSize: 16 });
    expect(s.bufferSizes).toEqual([]);
    expect(await r.readLine()).toBe("abc");
    expect(s.bufferSizes).toEqual([16]);
  });

  test("a line longer than the buffer is still read whole", async () => {
    const long = "x".repeat(100);
    const r = new Reader(new TestSource().push(`${long}\n`).end(), { bufferSize: 7 });
    expect(await r.readLine()).toBe(long);
  });

  test("large read(buf) calls go straight to the source", async () => {
    const s = new TestSource().push("0123456789").end();
    const r = new Reader(s, { bufferSize: 4 });
    const buf = new Uint8Array(8);
    expect(await r.read(buf)).toBe(8);
    expect(s.bufferSizes).toEqual([8]);
  });

  test("bufferSize and maxLine must be integers > 0", () => {
    expect(() => new Reader(new TestSource(), { bufferSize: 0 })).toThrow(
      "bufferSize must be an integer > 0, got 0",
    );
    expect(() => new Reader(new TestSource(), { maxLine: 1.5 })).toThrow(
      "maxLine must be an integer > 0, got 1.5",
    );
    expect(() => new Reader({} as TestSource)).toThrow(TypeError);
  });
});
