/**
 * The kernel's count of datagrams a socket dropped because its receive buffer was full
 * (`sk_drops`), read from the `drops` column of `/proc/net/udp` and `/proc/net/udp6` (Linux),
 * found by the socket's inode.
 * @module
 */
import { fstatSync, readFileSync } from "node:fs";

const TABLES = ["/proc/net/udp", "/proc/net/udp6"] as const;

/**
 * The receive-buffer drops the kernel counted for the UDP socket `fd`, or `undefined` where
 * they cannot be read (not Linux, no `/proc`, not a UDP socket, a closed fd). Reads the tables
 * each time (synchronously: they are small files in memory), so call it when the figure is
 * wanted, not per datagram.
 * @example
 * ```ts
 * kernelDrops(fd); // 99680 after a flood into a full buffer
 * ```
 */
export function kernelDrops(fd: number | undefined): number | undefined {
  if (fd === undefined || process.platform !== "linux") return undefined;
  let inode: string;
  try {
    inode = String(fstatSync(fd).ino);
  } catch {
    return undefined;
  }
  for (const table of TABLES) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && f[9] === inode) {
        const drops = Number(f[12]);
        return Number.isSafeInteger(drops) ? drops : undefined;
      }
    }
  }
  return undefined;
}
