/** `Mock.Flow.pair` passes the two-way stream conformance suite. */
import { Mock } from "../../src/mock/index.ts";
import { describeTwoWayStream } from "./stream-conformance.ts";

describeTwoWayStream("Mock.Flow.pair() on the mock backend", async () => Mock.Flow.pair(), {
  run: (fn) => Mock.Backend.run(fn),
});

// Outside any run, and with a small buffer so that writers often wait for readers.
describeTwoWayStream("Mock.Flow.pair() with a 1000-byte buffer", async () =>
  Mock.Flow.pair({ bufferSize: 1000 }),
);
