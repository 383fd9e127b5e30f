/**
 * docs/operations.md's example (a handover between two servers in one program) runs as
 * written, printing what it says (test/helpers/doc-examples.ts).
 */
import { docExamples } from "../helpers/doc-examples.ts";

docExamples("docs/operations.md", 1);
