/**
 * Helpers for the TLS tests: the fixture certificates (see test/fixtures/tls/README.md), and
 * node:tls servers and clients that no one here wrote, to talk to weir's.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";

const dir = new URL("../fixtures/tls/", import.meta.url);

/** A fixture file's PEM text. */
export function pem(name: string): string {
  return readFileSync(new URL(name, dir), "utf8");
}

/** The fixtures: the CA, the localhost server, a second name, a client, an expired one. */
export const certs = {
  ca: pem("ca.crt"),
  server: { cert: pem("server.crt"), key: pem("server.key") },
  other: { cert: pem("other.crt"), key: pem("other.key") },
  client: { cert: pem("client.crt"), key: pem("client.key") },
  expired: { cert: pem("expired.crt"), key: pem("expired.key") },
};

/** A node:tls server on 127.0.0.1 (port chosen by the OS); closing destroys its connections. */
export async function nodeTlsServer(
  opts: tls.TlsOptions,
  onSocket: (s: tls.TLSSocket) => void,
): Promise<{ port: number; server: tls.Server } & AsyncDisposable> {
  const server = tls.createServer({ allowHalfOpen: true, ...opts }, onSocket);
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // Failed handshakes are the tests' business: they check the client's side
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Ends `s` with `data` a turn later: a node:tls server's `end()` inside its connection callback
 * sends no close_notify OpenSSL recognises, so a reader (weir's by default) sees a cut stream
 * (docs/tls.md, "Ending a TLS stream").
 */
export function endSoon(s: tls.TLSSocket, data: string): void {
  setImmediate(() => s.end(data));
}

/** Connects a node:tls client and waits for its handshake (rejecting with its error). */
export function nodeTlsConnect(opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", ...opts });
    s.once("secureConnect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", (e) => {
      s.destroy();
      reject(e);
    });
  });
}

/** Reads a node:tls socket to its end (as bytes). */
export function readBytes(s: import("node:stream").Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.once("end", () => resolve(Buffer.concat(chunks)));
    s.once("error", reject);
  });
}

/** Reads a node:tls socket to its end (as text). */
export function readToEnd(s: import("node:stream").Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    s.setEncoding("utf8");
    s.on("data", (c: string) => {
      out += c;
    });
    s.once("end", () => resolve(out));
    s.once("error", reject);
  });
}

/** A TCP relay to 127.0.0.1:`target` that records what the client sent and can cut it short. */
export async function relay(target: number): Promise<
  {
    port: number;
    /** Everything the client sent so far. */
    sent(): Buffer;
    /** Resolves when the client's FIN has come through. */
    clientEnded: Promise<void>;
    /** Sends FIN to the server now, whatever the client does (a middlebox cutting in). */
    cut(): void;
    /** Sends FIN to the client now, whatever the server does. */
    cutDown(): void;
  } & AsyncDisposable
> {
  const { createServer, connect } = await import("node:net");
  const chunks: Buffer[] = [];
  const ended = Promise.withResolvers<void>();
  const open = new Set<import("node:net").Socket>();
  let upstream: import("node:net").Socket | undefined;
  let downstream: import("node:net").Socket | undefined;
  const server = createServer({ allowHalfOpen: true }, (down) => {
    const up = connect({ host: "127.0.0.1", port: target, allowHalfOpen: true });
    upstream = up;
    downstream = down;
    for (const s of [down, up]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {});
    }
    down.on("data", (b: Buffer) => {
      chunks.push(b);
      if (!up.writableEnded) up.write(b);
    });
    down.on("end", () => {
      ended.resolve();
      up.end();
    });
    up.on("data", (b: Buffer) => {
      if (!down.writableEnded) down.write(b);
    });
    up.on("end", () => down.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    clientEnded: ended.promise,
    cut: () => upstream?.end(),
    cutDown: () => downstream?.end(),
    async [Symbol.asyncDispose]() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The TLS records in `bytes`, as "TYPE:LENGTH" (23 is application data, 22 handshake, ...). */
export function records(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 5 <= bytes.length; ) {
    const len = bytes.readUInt16BE(i + 3);
    out.push(`${bytes[i]}:${len}`);
    i += 5 + len;
  }
  return out;
}
