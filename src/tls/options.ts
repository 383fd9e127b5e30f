/**
 * The checks of the `tls` options, and their translation into `node:tls` terms: one secure
 * context per server settings (and per SNI name), connection options for a client.
 * @module
 */

import { Buffer } from "node:buffer";
import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
} from "node:tls";
import { show } from "../core/checks.ts";
import { checkMs } from "../core/clock.ts";
import { IoError } from "../core/index.ts";
import { runtimeHas } from "../core/runtime.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import type {
  TlsCertificate,
  TlsConnectOptions,
  TlsListenOptions,
  TlsServerContext,
} from "../net/types.ts";

/**
 * `strictClose` when the option is not given: on wherever TLS over a JavaScript stream keeps
 * TLS's half-close (Node, Deno), so that a stream cut short is an error by default; off on Bun,
 * whose TLS over a JavaScript stream ends the connection at the peer's close_notify.
 */
export const STRICT_CLOSE_DEFAULT: boolean = runtimeHas("tls-stream-half-close");

/** The handshake time limit when none is given: 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

function checkObject(x: unknown, name: string): asserts x is object {
  if (typeof x !== "object" || x === null || Array.isArray(x)) {
    throw new TypeError(`${name} must be an object, got ${show(x)}`);
  }
}

function pem(x: unknown, name: string): string | Buffer {
  if (typeof x === "string") {
    if (x === "") throw new TypeError(`${name} must be PEM text, got ""`);
    return x;
  }
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError(`${name} must be PEM text (a string or bytes), got ${show(x)}`);
}

function pems(x: unknown, name: string): Array<string | Buffer> | undefined {
  if (x === undefined) return undefined;
  if (Array.isArray(x)) return x.map((p: unknown, i) => pem(p, `${name}[${i}]`));
  return [pem(x, name)];
}

function alpn(x: unknown, name: string): string[] | undefined {
  if (x === undefined) return undefined;
  if (!Array.isArray(x) || x.length === 0) {
    throw new TypeError(`${name} must be a non-empty array of protocol names, got ${show(x)}`);
  }
  return x.map((p: unknown, i) => {
    if (typeof p !== "string" || p.length === 0 || p.length > 255) {
      throw new TypeError(
        `${name}[${i}] must be a protocol name of 1 to 255 bytes, got ${show(p)}`,
      );
    }
    return p;
  });
}

function bool(x: unknown, name: string): boolean | undefined {
  if (x === undefined || typeof x === "boolean") return x;
  throw new TypeError(`${name} must be a boolean, got ${show(x)}`);
}

function handshakeTimeout(x: unknown, name: string): number {
  if (x === undefined) return DEFAULT_HANDSHAKE_TIMEOUT;
  checkMs(name, x as number);
  return x as number;
}

/** Node's error for an unusable PEM, as an `IoError` `Tls` `Certificate`. */
function contextError(e: unknown, what: string): IoError {
  return new IoError({ kind: "Tls", reason: "Certificate", cause: e }, [`loading ${what}`]);
}

function secureContext(c: TlsCertificate, ca: Array<string | Buffer> | undefined, what: string) {
  const cert = pem(c.cert, `${what}.cert`);
  const key = pem(c.key, `${what}.key`);
  try {
    return createSecureContext(ca === undefined ? { cert, key } : { cert, key, ca });
  } catch (e) {
    throw contextError(e, `the certificate and key of ${what}`);
  }
}

/** A server's settings, checked and loaded: what each accepted connection's handshake uses. */
export interface ServerTls {
  readonly context: SecureContext;
  /** The context per SNI name (lower case), if any. */
  readonly sni: ReadonlyMap<string, SecureContext> | undefined;
  readonly requestCert: boolean;
  readonly alpn: string[] | undefined;
}

/**
 * Checks and loads a server's TLS settings (for `listen`, `setTlsContext` and `Tls.server`).
 * @throws TypeError/RangeError naming the bad option; IoError `Tls` `Certificate` if a
 *   certificate or key cannot be loaded (or they do not match).
 */
export function serverTls(opts: TlsServerContext, name = "tls"): ServerTls {
  checkObject(opts, name);
  const ca = pems(opts.ca, `${name}.ca`);
  const requestCert = bool(opts.requestCert, `${name}.requestCert`) ?? false;
  const protocols = alpn(opts.alpn, `${name}.alpn`);
  const context = secureContext(opts, ca, name);
  let sni: Map<string, SecureContext> | undefined;
  if (opts.sni !== undefined) {
    checkObject(opts.sni, `${name}.sni`);
    sni = new Map();
    for (const [host, c] of Object.entries(opts.sni)) {
      checkObject(c, `${name}.sni[${JSON.stringify(host)}]`);
      sni.set(host.toLowerCase(), secureContext(c, ca, `${name}.sni[${JSON.stringify(host)}]`));
    }
  }
  return { context, sni, requestCert, alpn: protocols };
}

/** {@link serverTls} plus the handshake limit of `listen`'s `tls` option. */
export function listenTls(
  opts: TlsListenOptions,
): ServerTls & { readonly handshakeTimeout: number; readonly strictClose: boolean } {
  const s = serverTls(opts);
  return {
    ...s,
    handshakeTimeout: handshakeTimeout(opts.handshakeTimeout, "tls.handshakeTimeout"),
    strictClose: bool(opts.strictClose, "tls.strictClose") ?? STRICT_CLOSE_DEFAULT,
  };
}

/** A client's settings, checked: Node's options (without the socket) and the time limit. */
export interface ClientTls {
  readonly options: ConnectionOptions;
  readonly handshakeTimeout: number;
  /** Run TLS through a JavaScript stream that tells a close_notify from a cut connection. */
  readonly strictClose: boolean;
}

/**
 * Checks a client's `tls` option and makes Node's connection options; `host` is the name or
 * IP address connected to (the default `serverName`).
 * @throws TypeError/RangeError naming the bad option.
 */
export function clientTls(opts: TlsConnectOptions, host: string | undefined): ClientTls {
  checkObject(opts, "tls");
  const serverName = opts.serverName;
  if (serverName !== undefined && (typeof serverName !== "string" || serverName === "")) {
    throw new TypeError(`tls.serverName must be a non-empty string, got ${show(serverName)}`);
  }
  const name = serverName ?? host;
  const options: ConnectionOptions = {
    rejectUnauthorized: bool(opts.rejectUnauthorized, "tls.rejectUnauthorized") ?? true,
  };
  // SNI carries host names only; an IP address is still checked against the certificate
  if (name !== undefined) {
    if (!isIpAddress(name)) options.servername = name;
    // Node would check the name it connected to, which for a socket it is handed is unknown
    options.checkServerIdentity = (_host: string, cert: PeerCertificate) =>
      checkServerIdentity(name, cert);
  }
  const ca = pems(opts.ca, "tls.ca");
  if (ca !== undefined) options.ca = ca;
  if ((opts.cert === undefined) !== (opts.key === undefined)) {
    throw new TypeError(
      `tls.cert and tls.key go together, got only ${opts.cert === undefined ? "key" : "cert"}`,
    );
  }
  if (opts.cert !== undefined) {
    options.cert = pem(opts.cert, "tls.cert");
    options.key = pem(opts.key, "tls.key");
  }
  const protocols = alpn(opts.alpn, "tls.alpn");
  if (protocols !== undefined) options.ALPNProtocols = protocols;
  return {
    options,
    handshakeTimeout: handshakeTimeout(opts.handshakeTimeout, "tls.handshakeTimeout"),
    strictClose: bool(opts.strictClose, "tls.strictClose") ?? STRICT_CLOSE_DEFAULT,
  };
}

function isIpAddress(name: string): boolean {
  try {
    Ipaddr.parse(name);
    return true;
  } catch {
    return false;
  }
}
