/**
 * Lines per second: BufRead.line against node:readline and a hand-written indexOf splitter.
 *
 *   node bench/flow-bufread.ts [--mb 100] [--rounds 5] [--seed 42]
 *
 * (Node >= 23.6 runs the TypeScript as is; `--mb 1` is a quick smoke test. Rounds default to 5,
 * or 4 below 10 MB; fewer than 4 are not allowed.)
 *
 * Makes `--mb` MB of text (seeded PRNG: random line lengths, mostly ASCII with some 2- and
 * 3-byte UTF-8 characters, LF endings), cuts it into chunks of random sizes (views of one buffer,
 * no copies), then measures, interleaved for `--rounds` rounds:
 *   (a) BufRead.line()    a reader over `Flow.bytesSource(chunks)`, `await r.line()` per line;
 *   (a') BufRead.lines()  the same through `for await (const l of r.lines())`;
 *   (a'') BufRead.line() over a source that only has `readInto` (the copying path);
 *   (a''') BufRead.bufferedLine() ?? line(): buffered lines taken synchronously, one await
 *                         per refill instead of one per line;
 *   (b) node:readline     `for await (const l of rl)` over `Readable.from(chunks)`;
 *   (b') node:readline    with `rl.on("line")` events (its fastest form);
 *   (c) indexOf splitter  a hand-written async generator over the same chunks: `indexOf(10)`,
 *                         partial lines carried over, the same UTF-8 decoding (utf8Slice);
 *   (c') sync splitter    the same loop without async iteration (a ceiling, not a rival API).
 * It prints the median lines/s of each and the ratios BufRead/readline (goal >= 3) and
 * BufRead/indexOf (goal >= 1), each the median of the ratios measured within one round (so a
 * machine whose speed drifts between rounds does not skew them), as a table and one JSON line.
 *
 * No copy for a line inside a chunk: when BufRead's buffer is empty it adopts the source's chunk
 * (readChunk) and decodes a block of complete lines straight from it with one
 * `Buffer.prototype.utf8Slice.call(chunk, start, end)` (no subarray, no intermediate byte copy);
 * each line is a slice of that string. Only a line that spans two chunks is copied into the
 * reader's own buffer, and right after it the reader goes back to the next chunk. The check pass
 * below verifies this by probing `r.peek().buffer` before each line: the text's own ArrayBuffer
 * means the reader works in the source's chunk; another buffer means copied bytes. No line may
 * start in copied bytes (a line spanning chunks starts in the chunk and is then completed in a
 * copy), so every line that lies inside one chunk is decoded in place. The run fails otherwise.
 *
 * On the goal of 3x readline: `await` itself costs about as much per line as readline's
 * for-await does in all (an empty `for (;;) await f()` loop measured only about 3x readline's
 * for-await on Node 24), so an API with one promise per line cannot reach 3x; `bufferedLine()`
 * (a'''), which takes buffered lines without a promise, is the way past that floor.
 */
import { Buffer } from "node:buffer";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { EndOfFile } from "../src/core/index.ts";
import { BufRead, Flow, type Source } from "../src/flow/index.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`--${name} must be a number > 0`);
  return v;
}

const mb = arg("mb", 100);
const rounds = Math.max(4, Math.floor(arg("rounds", mb >= 10 ? 5 : 4)));
const seed = Math.floor(arg("seed", 42));

/** mulberry32: a small seeded PRNG. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- Data --------------------------------------------------------------------------------------

const rand = prng(seed);
const size = Math.floor(mb * 1024 * 1024);
const text = Buffer.allocUnsafe(size);
const letters = Buffer.from("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.;:-");
const multi = [Buffer.from("é"), Buffer.from("€"), Buffer.from("ñ")];
let len = 0;
let expectedLines = 0;
while (len < size - 200) {
  const lineLen = Math.floor(rand() * rand() * 160); // skewed: many short lines, some long
  const end = len + lineLen;
  while (len < end) {
    if (rand() < 0.02) {
      const m = multi[Math.floor(rand() * multi.length)] as Buffer;
      m.copy(text, len);
      len += m.length;
    } else text[len++] = letters[Math.floor(rand() * letters.length)] as number;
  }
  text[len++] = 10;
  expectedLines++;
}
const data = text.subarray(0, len);

const chunks: Buffer[] = [];
for (let off = 0; off < data.length; ) {
  const n = Math.min(data.length - off, 1 + Math.floor(rand() * 65536));
  chunks.push(data.subarray(off, off + n));
  off += n;
}

// ---- Contenders --------------------------------------------------------------------------------

type Result = { lines: number; chars: number };

const MAX = 1 << 20;

async function bufReadLine(): Promise<Result> {
  const r = BufRead.of(Flow.bytesSource(chunks), { maxSize: MAX });
  let lines = 0;
  let chars = 0;
  for (;;) {
    let l: string;
    try {
      l = await r.line();
    } catch (e) {
      if (e instanceof EndOfFile) break;
      throw e;
    }
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

async function bufReadBufferedLine(): Promise<Result> {
  const r = BufRead.of(Flow.bytesSource(chunks), { maxSize: MAX });
  let lines = 0;
  let chars = 0;
  for (;;) {
    const l = r.bufferedLine() ?? ((await r.atEnd()) ? null : await r.line());
    if (l === null) break;
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

async function bufReadLines(): Promise<Result> {
  const r = BufRead.of(Flow.bytesSource(chunks), { maxSize: MAX });
  let lines = 0;
  let chars = 0;
  for await (const l of r.lines()) {
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

async function bufReadLineCopying(): Promise<Result> {
  const inner = Flow.bytesSource(chunks);
  const src: Source = { readInto: (b, o) => inner.readInto(b, o) };
  const r = BufRead.of(src, { maxSize: MAX, initialSize: 65536 });
  let lines = 0;
  let chars = 0;
  for await (const l of r.lines()) {
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

async function readlineForAwait(): Promise<Result> {
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Number.POSITIVE_INFINITY });
  let lines = 0;
  let chars = 0;
  for await (const l of rl) {
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

function readlineEvents(): Promise<Result> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: Readable.from(chunks),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let lines = 0;
    let chars = 0;
    rl.on("line", (l: string) => {
      lines++;
      chars += l.length;
    });
    rl.on("close", () => resolve({ lines, chars }));
  });
}

type SliceFn = (this: Uint8Array, start: number, end: number) => string;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: SliceFn }).utf8Slice;

/** What one would write by hand: split each chunk with indexOf, carry the partial line over. */
async function* splitLines(src: Source): AsyncGenerator<string> {
  let carry: Uint8Array | null = null;
  const readChunk = src.readChunk?.bind(src);
  if (readChunk === undefined) throw new Error("needs readChunk");
  for (;;) {
    let chunk: Uint8Array;
    try {
      chunk = await readChunk();
    } catch (e) {
      if (e instanceof EndOfFile) break;
      throw e;
    }
    let start = 0;
    let nl = chunk.indexOf(10);
    if (carry !== null && nl >= 0) {
      const joined: Uint8Array = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      const e = joined.length - 1;
      yield utf8Slice.call(joined, 0, e > 0 && joined[e - 1] === 13 ? e - 1 : e);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      yield utf8Slice.call(chunk, start, nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      carry = carry === null ? rest : Buffer.concat([carry, rest]);
    }
  }
  if (carry !== null && carry.length > 0) yield utf8Slice.call(carry, 0, carry.length);
}

async function indexOfSplitter(): Promise<Result> {
  let lines = 0;
  let chars = 0;
  for await (const l of splitLines(Flow.bytesSource(chunks))) {
    lines++;
    chars += l.length;
  }
  return { lines, chars };
}

async function syncSplitter(): Promise<Result> {
  let lines = 0;
  let chars = 0;
  let carry: Uint8Array | null = null;
  for (const chunk of chunks) {
    let start = 0;
    let nl = chunk.indexOf(10);
    if (carry !== null && nl >= 0) {
      const joined: Uint8Array = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      lines++;
      chars += utf8Slice.call(joined, 0, joined.length - 1).length;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      lines++;
      chars += utf8Slice.call(chunk, start, nl).length;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      carry = carry === null ? rest : Buffer.concat([carry, rest]);
    }
  }
  return { lines, chars };
}

const contenders: [string, () => Promise<Result>][] = [
  ["BufRead.line", bufReadLine],
  ["BufRead.lines", bufReadLines],
  ["BufRead.bufferedLine", bufReadBufferedLine],
  ["BufRead.line (readInto)", bufReadLineCopying],
  ["readline for-await", readlineForAwait],
  ["readline events", readlineEvents],
  ["indexOf splitter", indexOfSplitter],
  ["sync splitter", syncSplitter],
];

// ---- The zero-copy check (not timed) -----------------------------------------------------------

async function checkInPlace(): Promise<{ copied: number; insideChunk: number; lines: number }> {
  // Lines that lie inside one chunk, from the chunk boundaries.
  const ends = new Set<number>();
  let off = 0;
  for (const c of chunks) {
    off += c.length;
    ends.add(off);
  }
  let insideChunk = 0;
  let lineStart = 0;
  let chunkEnd = 0;
  let ci = 0;
  for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, nl + 1)) {
    while (chunkEnd <= lineStart) chunkEnd += (chunks[ci++] as Buffer).length;
    if (nl < chunkEnd) insideChunk++;
    lineStart = nl + 1;
  }
  // Lines the reader starts in its own buffer (data it copied); a line spanning chunks starts
  // in the chunk and is copied only to be completed, after which the reader is back in the next
  // chunk: so none may start in the reader's own buffer.
  const r = BufRead.of(Flow.bytesSource(chunks), { maxSize: MAX });
  let copied = 0;
  let lines = 0;
  for (;;) {
    if (r.buffered > 0 && r.peek().buffer !== data.buffer) copied++;
    try {
      await r.line();
    } catch (e) {
      if (e instanceof EndOfFile) break;
      throw e;
    }
    lines++;
  }
  return { copied, insideChunk, lines };
}

// ---- Run ---------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const samples = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
let reference: Result | undefined;
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of contenders) {
    const t0 = performance.now();
    const res = await fn();
    const dt = (performance.now() - t0) / 1000;
    reference ??= res;
    if (res.lines !== expectedLines || res.chars !== reference.chars) {
      throw new Error(
        `${name}: got ${res.lines} lines / ${res.chars} chars, expected ${expectedLines}`,
      );
    }
    samples.get(name)?.push(res.lines / dt);
  }
}

const check = await checkInPlace();
if (check.lines !== expectedLines || check.copied !== 0) {
  throw new Error(`zero-copy check failed: ${JSON.stringify(check)}`);
}

const med = new Map([...samples].map(([n, xs]) => [n, median(xs)]));
const get = (n: string): number => med.get(n) ?? Number.NaN;
/** The median over rounds of the ratio of `a` to `b` measured in the same round (robust to drift). */
const ratio = (a: string, b: string): number => {
  const xs = samples.get(a) ?? [];
  const ys = samples.get(b) ?? [];
  return median(xs.map((x, i) => x / (ys[i] ?? Number.NaN)));
};
const ratios = {
  bufReadOverReadline: ratio("BufRead.line", "readline for-await"),
  bufReadOverReadlineEvents: ratio("BufRead.line", "readline events"),
  bufReadOverIndexOf: ratio("BufRead.line", "indexOf splitter"),
  bufReadOverSyncSplitter: ratio("BufRead.line", "sync splitter"),
  bufReadLinesOverReadline: ratio("BufRead.lines", "readline for-await"),
  bufferedLineOverReadline: ratio("BufRead.bufferedLine", "readline for-await"),
  bufferedLineOverReadlineEvents: ratio("BufRead.bufferedLine", "readline events"),
};

const fmt = (x: number): string => `${(x / 1e6).toFixed(2)} M lines/s`;
console.log(
  `flow-bufread: ${(data.length / 1048576).toFixed(1)} MB, ${expectedLines} lines, ${chunks.length} chunks, ${rounds} rounds, node ${process.version}`,
);
for (const [name] of contenders) console.log(`  ${name.padEnd(26)} ${fmt(get(name))}`);
const x = (v: number): string => `${v.toFixed(2)}x`;
console.log("  ratios (median of per-round ratios):");
console.log(
  `    BufRead.line / readline for-await     ${x(ratios.bufReadOverReadline)} (goal >= 3)`,
);
console.log(`    BufRead.line / readline events        ${x(ratios.bufReadOverReadlineEvents)}`);
console.log(
  `    BufRead.line / indexOf splitter       ${x(ratios.bufReadOverIndexOf)} (goal >= 1)`,
);
console.log(`    BufRead.line / sync splitter          ${x(ratios.bufReadOverSyncSplitter)}`);
console.log(`    BufRead.lines / readline for-await    ${x(ratios.bufReadLinesOverReadline)}`);
console.log(`    bufferedLine / readline for-await     ${x(ratios.bufferedLineOverReadline)}`);
console.log(
  `    bufferedLine / readline events        ${x(ratios.bufferedLineOverReadlineEvents)}`,
);
console.log(
  `  zero-copy check: ${check.insideChunk}/${check.lines} lines lie inside one chunk, all decoded in place; ` +
    `${check.lines - check.insideChunk} span chunks and are copied; lines started in a copy: ${check.copied}`,
);
console.log(
  JSON.stringify({
    bench: "flow-bufread",
    mb: Number((data.length / 1048576).toFixed(2)),
    lines: expectedLines,
    chunks: chunks.length,
    rounds,
    linesPerSecond: Object.fromEntries(med),
    ratios,
    linesInsideOneChunk: check.insideChunk,
    linesStartedInCopy: check.copied,
  }),
);
