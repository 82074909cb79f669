import event from "./schemas/event.schema.json" with { type: "json" };
import jobSummary from "./schemas/job-summary.schema.json" with { type: "json" };
import manifest from "./schemas/manifest.schema.json" with { type: "json" };
import runSummary from "./schemas/run-summary.schema.json" with { type: "json" };

/** The JSON Schemas of the run record's files, shipped inside the binary (`runner schema NAME`). */
export const SCHEMAS = {
  event, "job-summary": jobSummary, manifest, "run-summary": runSummary,
} as const;

export type SchemaName = keyof typeof SCHEMAS;

/** Which file each schema describes. */
export const SCHEMA_FILES: Record<SchemaName, string> = {
  event: "<job>/events.jsonl (each line)", "job-summary": "<job>/summary.json", manifest: "<job>/manifest.json",
  "run-summary": "summary.json",
};
