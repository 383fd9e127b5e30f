/**
 * What the domain worker (`domain-worker.ts`) and the threads that start it agree on: where the
 * entry file is, the data it starts with, and the messages it sends.
 * @module
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import type { SentError } from "./worker-errors.ts";

/**
 * The worker entry file, next to this one with the same extension: `domain-worker.ts` when
 * running from `src/` (Node strips the types), `domain-worker.js` from `dist/`.
 * @example
 * ```ts
 * new Worker(workerEntryUrl(), { workerData });
 * ```
 */
export function workerEntryUrl(): URL {
  const ext = new URL(import.meta.url).pathname.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./domain-worker${ext}`, import.meta.url);
}

/**
 * Turns a module reference into the URL text a worker can import: a `URL`, a URL string
 * (`file:`, `data:`, `node:`), an absolute path, or a bare package name (resolved from weir's
 * own location).
 * @throws TypeError for a relative path (a worker cannot know what it is relative to).
 * @example
 * ```ts
 * moduleHref("/srv/app/handler.js"); // "file:///srv/app/handler.js"
 * ```
 */
export function moduleHref(module: URL | string, what = "module"): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(`${what} must be a URL or a non-empty string, got ${String(module)}`);
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (module.startsWith(".")) {
    throw new TypeError(
      `${what} must be a URL (new URL("./x.js", import.meta.url)), an absolute path or a package name, got ${JSON.stringify(module)}`,
    );
  }
  return module; // a URL string or a bare specifier
}

/**
 * The data a domain worker starts with: a function to call once, or an accept loop to run.
 * @example
 * ```ts
 * const data: DomainWorkerData = { job: "call", module: href, exportName: "default", args: [] };
 * ```
 */
export type DomainWorkerData =
  | {
      readonly job: "call";
      readonly module: string;
      readonly exportName: string;
      readonly args: readonly unknown[];
    }
  | {
      readonly job: "server";
      readonly module: string;
      readonly exportName: string;
      readonly addr: string;
      readonly backlog: number;
      readonly limit: SharedArrayBuffer | null;
    };

/**
 * Messages from a domain worker to its parent.
 * @example
 * ```ts
 * worker.on("message", (m: DomainWorkerMessage) => { if (m.type === "ready") count++; });
 * ```
 */
export type DomainWorkerMessage =
  | { readonly type: "result"; readonly value: unknown }
  | { readonly type: "ready"; readonly threadId: number }
  | { readonly type: "handlerError"; readonly error: SentError }
  | { readonly type: "fatal"; readonly error: SentError }
  | { readonly type: "done" };
