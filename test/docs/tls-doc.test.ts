/**
 * docs/tls.md's examples run as written (from the repository's root, where the test
 * certificates are), printing what it says (test/helpers/doc-examples.ts).
 */
import { docExamples } from "../helpers/doc-examples.ts";

docExamples("docs/tls.md", 3);
