/**
 * Type tests of the TLS surface (against the built declarations, as public-api.test-d.ts).
 */
import type { X509Certificate } from "node:crypto";
import { describe, expectTypeOf, test } from "vitest";
import {
  type IoErr,
  type ListeningSocket,
  type StreamSocket,
  Tls,
  type TlsConnectOptions,
  type TlsListenOptions,
  type TlsSocket,
} from "weir";

describe("TLS", () => {
  test("Tls.client and Tls.server take any two-way flow and give a TlsSocket", () => {
    expectTypeOf<StreamSocket>().toMatchTypeOf<Parameters<typeof Tls.client>[0]>();
    expectTypeOf(Tls.client).returns.resolves.toEqualTypeOf<TlsSocket>();
    expectTypeOf(Tls.server).returns.resolves.toEqualTypeOf<TlsSocket>();
  });

  test("a TlsSocket is a StreamSocket with the session's facts", () => {
    expectTypeOf<TlsSocket>().toMatchTypeOf<StreamSocket>();
    expectTypeOf<TlsSocket["alpnProtocol"]>().toEqualTypeOf<string | null>();
    expectTypeOf<TlsSocket["tlsVersion"]>().toEqualTypeOf<string | null>();
    expectTypeOf<
      ReturnType<TlsSocket["peerCertificate"]>
    >().toEqualTypeOf<X509Certificate | null>();
  });

  test("the options and the error", () => {
    expectTypeOf<TlsConnectOptions["alpn"]>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<TlsListenOptions["handshakeTimeout"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Extract<IoErr, { kind: "Tls" }>["reason"]>().toEqualTypeOf<
      "Handshake" | "Certificate"
    >();
    expectTypeOf<ListeningSocket["setTlsContext"]>().not.toBeUndefined();
  });
});
