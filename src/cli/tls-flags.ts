/**
 * The TLS flags of the `weir` commands: `--tls-cert`/`--tls-key` for the servers (`echo`,
 * `listen`, `proxy`), `--tls`/`--ca`/`--insecure` for the clients (`connect`, `bench`,
 * `proxy --to-tls`). PEM files are read when the command starts.
 * @module
 */
import { readFileSync } from "node:fs";
import type { TlsConnectOptions, TlsListenOptions } from "../net/index.ts";
import { UsageError } from "./args.ts";

/** The `parseArgs` options of a TLS server. */
export const serverTlsFlags = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
} as const;

/** The `parseArgs` options of a TLS client. */
export const clientTlsFlags = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
} as const;

/** The help lines of {@link serverTlsFlags}. */
export const serverTlsHelp = `  --tls-cert FILE          serve TLS with this PEM certificate (chain); needs --tls-key
  --tls-key FILE           the PEM private key of --tls-cert`;

/** {@link serverTlsHelp} for a command whose option column is `width` wide. */
export function serverTlsHelpAt(width: number): string {
  return [
    ["--tls-cert FILE", "serve TLS with this PEM certificate (chain); needs --tls-key"],
    ["--tls-key FILE", "the PEM private key of --tls-cert"],
  ]
    .map(([flag, text]) => `  ${(flag as string).padEnd(width)}${text}`)
    .join("\n");
}

/** The help lines of {@link clientTlsFlags} (`flag` is `--tls` or `--to-tls`). */
export function clientTlsHelp(flag: string): string {
  return `  ${flag.padEnd(25)}connect with TLS, checking the certificate against the name or IP
  --ca FILE                with ${flag}: trust the CA certificates in FILE (PEM), not the system's
  --insecure               with ${flag}: accept any certificate (for tests only)`;
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new UsageError(`--${flag}: cannot read ${JSON.stringify(path)}: ${String(code ?? e)}`, {
      cause: e,
    });
  }
}

/**
 * The server side's `tls` option from `--tls-cert` and `--tls-key`, or `undefined` without them.
 * @throws UsageError if only one is given or a file cannot be read.
 */
export function serverTls(values: {
  readonly "tls-cert"?: string | undefined;
  readonly "tls-key"?: string | undefined;
}): TlsListenOptions | undefined {
  const cert = values["tls-cert"];
  const key = values["tls-key"];
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new UsageError("--tls-key needs --tls-cert");
  if (key === undefined) throw new UsageError("--tls-cert needs --tls-key");
  return { cert: readPem("tls-cert", cert), key: readPem("tls-key", key) };
}

/**
 * The client side's `tls` option from `--tls` (or the flag named `flag`), `--ca` and
 * `--insecure`, or `undefined` without TLS.
 * @throws UsageError for `--ca`/`--insecure` without TLS, both at once, or an unreadable file.
 */
export function clientTls(
  values: {
    readonly ca?: string | undefined;
    readonly insecure?: boolean | undefined;
  },
  on: boolean,
  flag: string,
): TlsConnectOptions | undefined {
  const { ca, insecure } = values;
  if (!on) {
    if (ca !== undefined) throw new UsageError(`--ca needs ${flag}`);
    if (insecure === true) throw new UsageError(`--insecure needs ${flag}`);
    return undefined;
  }
  if (ca !== undefined && insecure === true) {
    throw new UsageError("--ca and --insecure cannot go together");
  }
  if (insecure === true) return { rejectUnauthorized: false };
  return ca === undefined ? {} : { ca: readPem("ca", ca) };
}
