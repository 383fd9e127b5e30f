/** docs/buffered-io.md's examples run as written, printing what it says (test/helpers/doc-examples.ts). */
import { docExamples } from "../helpers/doc-examples.ts";

docExamples("docs/buffered-io.md", 1);
