/**
 * The peer the HTTP example is measured against: a `node:http` server answering every request
 * with the same 14-byte hello (and the same headers: Date, Content-Type, Content-Length) as
 * examples/http. Usage: node bench/http-node.ts [PORT]; prints `listening on tcp:127.0.0.1:PORT`.
 */
import http from "node:http";
import type net from "node:net";

const body = "Hello, world!\n";
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening on tcp:127.0.0.1:${port}\n`);
});
process.once("SIGINT", () => process.exit(0));
process.once("SIGTERM", () => process.exit(0));
