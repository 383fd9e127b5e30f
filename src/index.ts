/**
 * weir: structured-concurrency networking for TypeScript — Eio's `Net` and Async's `Tcp`
 * on Node.js. This is the `weir` entry point; `weir/mock` and `weir/unix` are the others.
 * @module
 */
export * from "./core/index.ts";
export * from "./flow/index.ts";
// Both net and tcp name their connect options ConnectOptions: `Net`'s keeps the name here.
export type { ConnectOptions } from "./net/index.ts";
export * from "./net/index.ts";
export { run } from "./run.ts";
export type { ConnectOptions as TcpClientOptions } from "./tcp/index.ts";
export * from "./tcp/index.ts";
export * from "./tls/index.ts";
