/**
 * A conformance suite for connected stream sockets, after Trio's `check_two_way_stream`: every
 * backend's socket pair (the mock's `Mock.Flow.pair`, the Node backend's socketpair and TCP
 * connections) must pass it. Call {@link describeTwoWayStream} from a `*.test.ts` file.
 */
import { describe, expect, test } from "vitest";
import { Cancelled, EndOfFile, Fiber, IoError, isIoError } from "../../src/core/index.ts";
import { UnsupportedOnRuntime } from "../../src/core/runtime.ts";
import type { StreamSocket } from "../../src/net/index.ts";

/** Two connected stream sockets; disposing the pair closes both. */
export type StreamPair = readonly [a: StreamSocket, b: StreamSocket] & AsyncDisposable;

/** How to run the suite against one backend. */
export interface TwoWayStreamOptions {
  /**
   * Runs one test body on the backend (`Mock.Backend.run`, or the real `run`); default: calls
   * it directly.
   */
  readonly run?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
  /**
   * Whether a socket can still write once the peer has shut down its sending side: `true`
   * (the default), or the feature name of the `UnsupportedOnRuntime` such a write must throw
   * where the runtime closes the connection instead (Bun's TLS over a JavaScript stream).
   */
  readonly writeAfterPeerEnd?: true | { readonly unsupported: string } | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);

/** Reads exactly `n` bytes. */
async function readExactly(s: StreamSocket, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) got += await s.readInto(buf.subarray(got));
  return buf;
}

/** Reads until end-of-file. */
async function readToEnd(s: StreamSocket): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(8192);
  for (;;) {
    try {
      const n = await s.readInto(buf);
      chunks.push(buf.slice(0, n));
    } catch (e) {
      if (e instanceof EndOfFile) break;
      throw e;
    }
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Whether reading `s` ends: end-of-file, or (as a real socket may say) ConnectionReset. */
async function expectEnd(s: StreamSocket): Promise<void> {
  const e = await s.readInto(new Uint8Array(1)).then(
    (n) => new Error(`expected end-of-file, read ${n} bytes`),
    (x: unknown) => x,
  );
  if (!(e instanceof EndOfFile || isIoError(e, "ConnectionReset"))) throw e;
}

/**
 * Declares the two-way stream conformance tests for the pairs `makePair` makes: data goes both
 * ways in order; `shutdown("send")` gives the peer end-of-file while the other direction still
 * works; `shutdown("receive")` ends a pending read; closing twice is fine; after the peer
 * closes, reads end; a blocked read is cancelled without losing data; using a closed socket
 * fails with `IoError` `Closed`; big writes are not lost and wait for the reader.
 * @example
 * ```ts
 * describeTwoWayStream("Mock.Flow.pair", async () => Mock.Flow.pair(), { run: Mock.Backend.run });
 * ```
 */
export function describeTwoWayStream(
  name: string,
  makePair: () => Promise<StreamPair>,
  opts: TwoWayStreamOptions = {},
): void {
  const run = opts.run ?? (<T>(fn: () => Promise<T>): Promise<T> => fn());
  const withPair = (body: (a: StreamSocket, b: StreamSocket) => Promise<void>) => () =>
    run(async () => {
      await using pair = await makePair();
      const [a, b] = pair;
      await body(a, b);
    });

  describe(`${name} conforms to the two-way stream contract`, () => {
    test(
      "data sent on one socket is received on the other, both ways",
      withPair(async (a, b) => {
        await a.write([bytes("hello"), bytes(" "), bytes("world")]);
        expect(decoder.decode(await readExactly(b, 11))).toBe("hello world");
        await b.write([bytes("back")]);
        expect(decoder.decode(await readExactly(a, 4))).toBe("back");
      }),
    );

    const afterEnd = opts.writeAfterPeerEnd ?? true;
    test(
      afterEnd === true
        ? "shutdown('send') gives the peer end-of-file after the data, and the other way still works"
        : "shutdown('send') gives the peer end-of-file after the data; writing back throws UnsupportedOnRuntime, and the peer then sees the end",
      withPair(async (a, b) => {
        await a.write([bytes("last words")]);
        await a.shutdown("send");
        expect(decoder.decode(await readToEnd(b))).toBe("last words");
        if (afterEnd === true) {
          await b.write([bytes("reply")]);
          expect(decoder.decode(await readExactly(a, 5))).toBe("reply");
          return;
        }
        const e = await b.write([bytes("reply")]).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(UnsupportedOnRuntime);
        expect((e as UnsupportedOnRuntime).feature).toBe(afterEnd.unsupported);
        // b's shutdown("send") has nothing left to do; a reads the end the runtime sent
        await b.shutdown("send");
        await expectEnd(a);
      }),
    );

    test(
      "shutdown('receive') makes a pending read end",
      withPair(async (a) => {
        await Fiber.both(
          () => expectEnd(a),
          () => a.shutdown("receive"),
        );
      }),
    );

    test(
      "close() twice is fine, and reads on the peer then end",
      withPair(async (a, b) => {
        await a.close();
        await a.close();
        await expectEnd(b);
      }),
    );

    test(
      "a blocked read is cancelled, and no data is lost",
      withPair(async (a, b) => {
        const r = await Fiber.first(
          async () => {
            await a.readInto(new Uint8Array(10));
            return "read";
          },
          async () => {
            for (let i = 0; i < 3; i++) await Fiber.yield();
            return "cancelled";
          },
        );
        expect(r).toBe("cancelled");
        const ac = new AbortController();
        const pending = a.readInto(new Uint8Array(10), { signal: ac.signal });
        ac.abort(new Error("no more"));
        await expect(pending).rejects.toBeInstanceOf(Cancelled);
        await b.write([bytes("still there")]);
        expect(decoder.decode(await readExactly(a, 11))).toBe("still there");
      }),
    );

    test(
      "reading, writing or shutting down a closed socket fails with IoError Closed",
      withPair(async (a) => {
        await a.close();
        for (const op of [
          () => a.write([bytes("x")]),
          () => a.readInto(new Uint8Array(1)),
          () => a.shutdown("send"),
        ]) {
          const e = await op().then(
            () => undefined,
            (x: unknown) => x,
          );
          expect(e).toBeInstanceOf(IoError);
          expect((e as IoError).err.kind).toBe("Closed");
        }
      }),
    );

    test(
      "a big write arrives whole while the peer reads concurrently",
      withPair(async (a, b) => {
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
        let got: Uint8Array = new Uint8Array(0);
        await Fiber.both(
          async () => {
            await a.write([big.subarray(0, 1000), big.subarray(1000)]);
            await a.shutdown("send");
          },
          async () => {
            got = await readToEnd(b);
          },
        );
        expect(got.length).toBe(big.length);
        expect(Buffer.from(got).equals(Buffer.from(big))).toBe(true);
      }),
    );

    test(
      "readInto() fails on an empty buffer with a RangeError, before reading anything",
      withPair(async (a, b) => {
        // a bad argument may throw at once or reject: both stop before reading
        await expect(Promise.resolve().then(() => a.readInto(new Uint8Array(0)))).rejects.toThrow(
          RangeError,
        );
        await b.write([bytes("x")]);
        expect(decoder.decode(await readExactly(a, 1))).toBe("x");
      }),
    );
  });
}
