/**
 * TLS for weir: `Tls.client`/`Tls.server` over any flow; the `tls` options of `net.connect`,
 * `net.listen` and Tcp are declared with the network contract.
 * @module
 */
export {
  Tls,
  type TlsClientOptions,
  type TlsServerOptions,
  type TlsUpgradeOptions,
} from "./tls.ts";
