/**
 * The simulation's DNS where an address is taken as text: `tcp:db:5432` and `udp:db:53` name a
 * host, resolved to its address; `localhost` is the loopback address.
 * @module
 */
import { Sockaddr, type SockaddrLike } from "../net/index.ts";
import type { World } from "./world.ts";

const named = /^(tcp|udp):([A-Za-z_][A-Za-z0-9_.-]*):(\d+)$/;

/** `addr` with a host name replaced by the host's address (other values unchanged). */
export function resolveNamed(world: World, addr: SockaddrLike): SockaddrLike {
  if (typeof addr !== "string") return addr;
  const m = named.exec(addr);
  if (m === null) return addr;
  const [, type, name, port] = m as unknown as [string, "tcp" | "udp", string, string];
  if (name === "localhost") return `${type}:127.0.0.1:${port}`;
  const h = world.byName(name);
  if (h === undefined) return addr; // Sockaddr's own error names the bad host
  return type === "tcp" ? Sockaddr.tcp(h.ip, Number(port)) : Sockaddr.udp(h.ip, Number(port));
}
