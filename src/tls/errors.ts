/**
 * How `node:tls` failures become weir's `IoError { kind: "Tls", reason, cause }`, and the
 * error for a TLS stream cut short (end of file without close_notify).
 * @module
 */
import { IoError, isCancelled } from "../core/index.ts";
import { Sockaddr, type StreamAddr } from "../net/sockaddr.ts";

/** The `code` of a Node or OpenSSL error, if it has one. */
function codeOf(e: unknown): string {
  if (typeof e !== "object" || e === null) return "";
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : "";
}

/**
 * Whether a Node/OpenSSL error code is about a certificate: one this side refused
 * (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...)
 * or one the peer refused or missed (`ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`,
 * `ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED`, `ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE`,
 * `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`).
 */
export function isCertificateCode(code: string): boolean {
  return (
    code.includes("CERT") ||
    code.includes("UNKNOWN_CA") ||
    code.includes("SELF_SIGNED") ||
    code.includes("UNABLE_TO_VERIFY") ||
    code.includes("UNABLE_TO_GET_ISSUER") ||
    code === "HOSTNAME_MISMATCH"
  );
}

/**
 * Turns a failure during a TLS handshake into `IoError { kind: "Tls" }` (`Certificate` for a
 * refused or missing certificate, `Handshake` for anything else: a plain-text peer, no shared
 * protocol or version, a peer that went away, a time limit), with the context line
 * `TLS handshake with ADDR`. `Cancelled` is returned as it is; an `IoError` of kind `Tls`
 * only gets the context line.
 * @example
 * ```ts
 * tlsSocket.once("error", (e) => reject(handshakeError(e, peer)));
 * ```
 */
export function handshakeError(e: unknown, peer: StreamAddr | undefined): unknown {
  if (isCancelled(e)) return e;
  const err =
    e instanceof IoError && e.err.kind === "Tls"
      ? e
      : new IoError({
          kind: "Tls",
          reason: isCertificateCode(codeOf(e)) ? "Certificate" : "Handshake",
          cause: readable(e instanceof IoError ? (e.err.cause ?? e) : e),
        });
  return err.addContext(
    `TLS handshake with ${peer === undefined ? "peer" : Sockaddr.format(peer)}`,
  );
}

/**
 * OpenSSL's messages carry a hex prefix and a source path (`40...:error:0A000460:SSL
 * routines:ssl3_read_bytes:tlsv1 alert no application protocol:../deps/...`): keep its
 * `reason` ("tlsv1 alert no application protocol") as the message, with the original error as
 * its `cause` and the same `code`.
 */
function readable(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const reason = (e as { reason?: unknown }).reason;
  if (typeof reason !== "string" || reason === "" || !e.message.includes(":error:")) return e;
  return Object.assign(new Error(reason, { cause: e }), { code: codeOf(e) });
}

/**
 * The error for a handshake that did not finish within `ms`: `IoError` `Tls` `Handshake`
 * (with the context line added by {@link handshakeError}).
 */
export function handshakeTimeoutError(ms: number): IoError {
  return new IoError({
    kind: "Tls",
    reason: "Handshake",
    cause: new Error(`the handshake did not finish within ${ms} ms`),
  });
}

/**
 * The error a read gets when the peer closed its end without sending close_notify first: the
 * data may have been cut short by someone other than the peer. `IoError` `ConnectionReset`
 * ("data may be lost"), never a quiet end of file.
 */
export function truncatedError(): IoError {
  return new IoError({
    kind: "ConnectionReset",
    cause: new Error("TLS stream truncated: end of file without close_notify"),
  });
}
