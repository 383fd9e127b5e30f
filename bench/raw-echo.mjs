// raw-echo.mjs - the baseline: a raw node:net echo server, 'data' event + socket.write(chunk),
// used by `npm run bench` when ../shared/bench is not there.
// Usage: node bench/raw-echo.mjs [PORT]   (0 = pick one). Prints "LISTENING <port>" when ready.
import net from "node:net";

const port = Number(process.argv[2] ?? 0);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("error", () => {});
  socket.on("data", (chunk) => socket.write(chunk));
});
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
