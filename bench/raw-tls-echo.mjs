// raw-tls-echo.mjs - the TLS baseline: a raw node:tls echo server, socket.pipe(socket), with
// the test certificates. Usage: node bench/raw-tls-echo.mjs [PORT]   (0 = pick one).
// Prints "LISTENING <port>" when ready.
import { readFileSync } from "node:fs";
import tls from "node:tls";

const port = Number(process.argv[2] ?? 0);
const pem = (name) => readFileSync(new URL(`../test/fixtures/tls/${name}`, import.meta.url));
const server = tls.createServer({ cert: pem("server.crt"), key: pem("server.key") }, (socket) => {
  socket.setNoDelay(true);
  socket.on("error", () => {});
  socket.pipe(socket);
});
server.on("tlsClientError", () => {});
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
