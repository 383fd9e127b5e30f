/** docs/metrics.md's examples run as written, printing what it says (test/helpers/doc-examples.ts). */
import { docExamples } from "../helpers/doc-examples.ts";

docExamples("docs/metrics.md", 2);
