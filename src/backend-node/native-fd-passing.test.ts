/**
 * The addon's fd passing (`sendFds`, `recvFds`: SCM_RIGHTS over a Unix stream socket) and
 * `acceptsConnections` (SO_ACCEPTCONN), on real socketpairs and pipes.
 */
import { readSync, writeSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { loadNative, type NativeSystemError } from "./native.ts";

const native = loadNative();

type Got = { err: NativeSystemError | null; data: Buffer | null; fds: number[] };

function recv(fd: number, max: number, timeoutMs: number): Promise<Got> {
  const recvFds = native.recvFds;
  if (recvFds === undefined) throw new Error("stale addon");
  return new Promise((resolve) =>
    recvFds(fd, max, timeoutMs, (err, data, fds) => resolve({ err, data, fds })),
  );
}

function send(fd: number, text: string, fds: number[]): number {
  const sendFds = native.sendFds;
  if (sendFds === undefined) throw new Error("stale addon");
  return sendFds(fd, new TextEncoder().encode(text), fds);
}

describe("sendFds / recvFds", () => {
  test("a pipe's write end crosses a socketpair and still writes to the same pipe", async () => {
    const [a, b] = native.socketpair("stream");
    const [r, w] = native.pipe();
    try {
      expect(send(a, "take this", [w])).toBe(9);
      const got = await recv(b, 64, 5000);
      expect(got.err).toBeNull();
      expect(got.data?.toString()).toBe("take this");
      expect(got.fds).toHaveLength(1);
      const copy = got.fds[0] as number;
      expect(copy).not.toBe(w);
      writeSync(copy, "through the copy");
      native.close(copy);
      const buf = Buffer.alloc(64);
      let n = -1;
      for (let i = 0; i < 100 && n < 0; i++) {
        try {
          n = readSync(r, buf);
        } catch {
          await new Promise((res) => setTimeout(res, 5)); // EAGAIN: the pipe is non-blocking
        }
      }
      expect(buf.subarray(0, n).toString()).toBe("through the copy");
    } finally {
      for (const fd of [a, b, r, w]) native.close(fd);
    }
  });

  test("a message without fds; end-of-file; a timeout; a shutdown ends the wait", async () => {
    const [a, b] = native.socketpair("stream");
    try {
      send(a, "plain", []);
      const plain = await recv(b, 64, 5000);
      expect([plain.err, plain.data?.toString(), plain.fds]).toEqual([null, "plain", []]);
      const late = await recv(b, 64, 30);
      expect(late.err?.code).toBe("ETIMEDOUT");
      const waiting = recv(b, 64, 10_000);
      native.shutdown(b, "all");
      const woken = await waiting;
      expect([woken.err, woken.data?.length]).toEqual([null, 0]);
    } finally {
      native.close(a);
      native.close(b);
    }
  });

  test("bad arguments: TypeError", () => {
    const [a, b] = native.socketpair("stream");
    try {
      const sendFds = native.sendFds as NonNullable<typeof native.sendFds>;
      const recvFds = native.recvFds as NonNullable<typeof native.recvFds>;
      expect(() => sendFds(a, new Uint8Array(0), [])).toThrow(/data must be 1 to 65536 bytes/);
      expect(() => sendFds(a, new Uint8Array(1), "x" as never)).toThrow(/fds must be an array/);
      expect(() => sendFds(a, new Uint8Array(1), new Array(17).fill(a))).toThrow(/at most 16 fds/);
      expect(() => sendFds(a, new Uint8Array(1), [-1])).toThrow(/fd must be a non-negative/);
      expect(() => recvFds(b, 0, 10, () => {})).toThrow(/maxBytes must be an integer in 1..65536/);
      expect(() => recvFds(b, 10, -2, () => {})).toThrow(/timeoutMs must be an integer/);
      expect(() => recvFds(b, 10, 10, "cb" as never)).toThrow(TypeError);
    } finally {
      native.close(a);
      native.close(b);
    }
  });

  test("sendFds on a closed peer: EPIPE, not a signal", () => {
    const [a, b] = native.socketpair("stream");
    native.close(b);
    try {
      expect(() => send(a, "x", [])).toThrow(expect.objectContaining({ code: "EPIPE" }));
    } finally {
      native.close(a);
    }
  });
});

describe("acceptsConnections", () => {
  test("true for a listening socket, false for a bound or connected one", () => {
    const accepts = native.acceptsConnections as NonNullable<typeof native.acceptsConnections>;
    const l = native.socket("inet", "stream");
    const d = native.socket("inet", "dgram");
    const [a, b] = native.socketpair("stream");
    try {
      native.bind(l, { family: "inet", address: "127.0.0.1", port: 0 });
      expect(accepts(l)).toBe(false);
      native.listen(l, 4);
      expect([accepts(l), accepts(d), accepts(a)]).toEqual([true, false, false]);
      const [r, w] = native.pipe();
      expect(() => accepts(r)).toThrow(expect.objectContaining({ code: "ENOTSOCK" }));
      native.close(r);
      native.close(w);
    } finally {
      for (const fd of [l, d, a, b]) native.close(fd);
    }
  });
});
