import { expect, test } from "vitest";
import { EndOfFile, Fiber, IoError, Switch, traceln } from "../core/index.ts";
import { Sockaddr } from "../net/index.ts";
import { Backend } from "./backend.ts";
import { Flow, MockFlow } from "./flow.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function traced(fn: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  await Backend.run(async () => await fn(), { onTrace: (l) => lines.push(l) });
  return lines;
}

test("Flow.make() makes a mock stream socket with default addresses", () => {
  const flow = Flow.make("flow");
  expect(flow).toBeInstanceOf(MockFlow);
  expect(flow.label).toBe("flow");
  expect(Sockaddr.format(flow.localAddr)).toBe("tcp:0.0.0.0:0");
  const other = Flow.make("x", { localAddr: Sockaddr.unix("/a"), peerAddr: Sockaddr.unix("/b") });
  expect([Sockaddr.format(other.localAddr), Sockaddr.format(other.peerAddr)]).toEqual([
    "unix:/a",
    "unix:/b",
  ]);
  expect(() => Flow.make(3 as never)).toThrow("label must be a string, got number");
});

test("MockFlow.readInto() gives the scripted data and traces it, then end-of-file", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    Flow.onRead(flow, [{ return: "Hi" }, { return: Uint8Array.of(1, 2) }]);
    const buf = new Uint8Array(10);
    expect(text(buf.subarray(0, await flow.readInto(buf)))).toBe("Hi");
    expect(await flow.readInto(buf)).toBe(2);
    await expect(flow.readInto(buf)).rejects.toBeInstanceOf(EndOfFile);
  });
  expect(lines).toEqual(['flow: read "Hi"', 'flow: read "\\001\\002"']);
});

test("MockFlow.readInto() hands a long chunk out over several reads, traced once", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    Flow.onRead(flow, [{ return: "Hello\nworld" }]);
    const buf = new Uint8Array(4);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text(buf.subarray(0, await flow.readInto(buf))));
    expect(got).toEqual(["Hell", "o\nwo", "rld"]);
  });
  expect(lines).toEqual(['flow: read "Hello\\n"', '           "world"']);
});

test("MockFlow.readInto() fails loudly when the script gives no data", async () => {
  await Backend.run(async () => {
    const flow = Flow.make("flow");
    Flow.onRead(flow, [{ return: "" }]);
    await expect(flow.readInto(new Uint8Array(1))).rejects.toThrow(
      "flow: the read script returned no data",
    );
    await expect(flow.readInto(new Uint8Array(0))).rejects.toThrow(RangeError);
  });
});

test("MockFlow.readInto() waits for a blocking script, cancellably", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    Flow.onRead(flow, [{ run: Fiber.awaitCancel }]);
    const r = await Fiber.first(
      () => flow.readInto(new Uint8Array(1)).then(() => "read"),
      async () => {
        await Fiber.yield();
        return "gave up";
      },
    );
    traceln(r);
  });
  expect(lines).toEqual(["gave up"]);
});

test("MockFlow.write() traces the data, split after each newline (Eio's format)", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    await flow.write([bytes("GET / HTTP/1.1\r\nHost:www.example.com:80\r\n\r\n")]);
    await flow.write([bytes("a"), bytes(""), bytes("b\nc")]);
    await flow.write([]);
  });
  expect(lines).toEqual([
    'flow: wrote "GET / HTTP/1.1\\r\\n"',
    '            "Host:www.example.com:80\\r\\n"',
    '            "\\r\\n"',
    'flow: wrote ["a"; "b\\n"',
    '                  "c"]',
  ]);
});

test("MockFlow.write() traces pieces of at most the scripted copy size", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    Flow.onCopyBytes(flow, [{ return: 2 }], { default: { return: 3 } });
    await flow.write([bytes("abcdefgh")]);
    Flow.onCopyBytes(flow, [{ return: 0 }]);
    await expect(flow.write([bytes("x")])).rejects.toThrow(
      "flow: copy size must be an integer > 0, got 0",
    );
  });
  expect(lines).toEqual(['flow: wrote "ab"', 'flow: wrote "cde"', 'flow: wrote "fgh"']);
});

test("MockFlow.copyFrom() copies a source piece by piece (Eio mocks.md, Flows)", async () => {
  const lines = await traced(async () => {
    const stdin = Flow.make("stdin");
    const stdout = Flow.make("stdout");
    Flow.onRead(stdin, [{ return: "chunk1" }, { return: "chunk2" }, { raise: new EndOfFile() }]);
    await stdout.copyFrom(stdin);
    await stdin.close();
    await stdout.shutdown("send");
  });
  expect(lines).toEqual([
    'stdin: read "chunk1"',
    'stdout: wrote "chunk1"',
    'stdin: read "chunk2"',
    'stdout: wrote "chunk2"',
    "stdin: closed",
    "stdout: shutdown send",
  ]);
});

test("MockFlow.close() traces once, at the call, and later operations fail with Closed", async () => {
  const lines = await traced(async () => {
    const flow = Flow.make("flow");
    const p = flow.close();
    traceln("after close()");
    await p;
    await flow.close();
    await flow[Symbol.asyncDispose]();
    const e = await flow.readInto(new Uint8Array(1)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).err.kind).toBe("Closed");
    expect((e as IoError).message).toBe("Net Closed\n  reading from flow");
    await expect(flow.write([bytes("x")])).rejects.toThrow("writing to flow");
    await expect(flow.shutdown("send")).rejects.toThrow("shutting down flow");
  });
  expect(lines).toEqual(["flow: closed", "after close()"]);
});

test("MockFlow.shutdown() checks its command", async () => {
  await expect(Flow.make("f").shutdown("both" as never)).rejects.toThrow(
    'cmd must be "send", "receive" or "all", got "both"',
  );
});

test("MockFlow.attachToSwitch() closes the flow when the switch finishes, unless closed before", async () => {
  const lines = await traced(async () => {
    await Switch.run(async (sw) => {
      Flow.make("a").attachToSwitch(sw);
      const b = Flow.make("b");
      b.attachToSwitch(sw);
      await b.close();
      traceln("switch finishing");
    });
  });
  expect(lines).toEqual(["b: closed", "switch finishing", "a: closed"]);
});

test("MockFlow.setNoDelay() is silent", async () => {
  const lines = await traced(() => Flow.make("f").setNoDelay(true));
  expect(lines).toEqual([]);
});
