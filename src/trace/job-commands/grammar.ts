/**
 * The grammar of in-band job commands: Azure Pipelines' logging commands
 * (learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands) and GitHub Actions' workflow
 * commands (docs.github.com/actions/reference/workflow-commands-for-github-actions), each a whole
 * line of a stage's output that starts with the command's prefix. A line that merely looks similar
 * (a prefix further into the line, an unknown area or name, no closing bracket) is not a command.
 */
export interface JobCommand {
  readonly dialect: "azure" | "github";
  /** `task.setvariable`, `artifact.upload` (Azure `##vso`), `group`, `warning` (Azure `##[…]` and GitHub). */
  readonly name: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly message: string;
}

/** Azure's `##vso[area.action]` commands this runner knows. */
export const AZURE_COMMANDS = new Set([
  "task.setsecret", "task.setvariable", "task.prependpath", "task.logissue", "task.complete", "task.uploadfile", "artifact.upload",
]);
/** Azure's formatting lines, `##[name]message`. */
export const AZURE_FORMATS = new Set(["group", "endgroup", "section", "warning", "error", "command", "debug"]);
/** GitHub's workflow commands, `::name props::message`. */
export const GITHUB_COMMANDS = new Set(["add-mask", "group", "endgroup", "warning", "error", "notice", "debug", "stop-commands"]);

const VSO = /^##vso\[([A-Za-z]+\.[A-Za-z]+)((?:\s+[^\]]*)?)\](.*)$/s;
const FORMAT = /^##\[([a-z]+)\](.*)$/s;
const GITHUB = /^::([a-z-]+)(?:\s+([^:]*))?::(.*)$/s;

/** The command a line of output is, if it is one (without its line end). */
export function parseCommandLine(line: string): JobCommand | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.startsWith("##vso[")) {
    const m = VSO.exec(text);
    const name = m?.[1]!.toLowerCase();
    if (!m || !name || !AZURE_COMMANDS.has(name)) return undefined;
    return { dialect: "azure", name, properties: azureProperties(m[2]!), message: unescapeAzure(m[3]!, false) };
  }
  if (text.startsWith("##[")) {
    const m = FORMAT.exec(text);
    if (!m || !AZURE_FORMATS.has(m[1]!)) return undefined;
    return { dialect: "azure", name: m[1]!, properties: {}, message: m[2]! };
  }
  if (text.startsWith("::")) {
    const m = GITHUB.exec(text);
    if (!m || !GITHUB_COMMANDS.has(m[1]!)) return undefined;
    return { dialect: "github", name: m[1]!, properties: githubProperties(m[2] ?? ""), message: unescapeGitHub(m[3]!, false) };
  }
  return undefined;
}

/** `key=value;key=value`: keys case-insensitive, values with Azure's escapes. */
function azureProperties(text: string): Record<string, string> {
  return properties(text, ";", (key) => key.toLowerCase(), (value) => unescapeAzure(value, true));
}

/** `key=value,key=value`, values with GitHub's escapes. */
function githubProperties(text: string): Record<string, string> {
  return properties(text, ",", (key) => key, (value) => unescapeGitHub(value, true));
}

function properties(text: string, separator: string, keyOf: (key: string) => string, valueOf: (value: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.trim().split(separator)) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    out[keyOf(part.slice(0, at).trim())] = valueOf(part.slice(at + 1));
  }
  return out;
}

export function unescapeAzure(text: string, property: boolean): string {
  let out = text.replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  if (property) out = out.replace(/%3B/gi, ";").replace(/%5D/gi, "]");
  return out.replace(/%AZP25/gi, "%");
}

/** GitHub: `%0D` CR, `%0A` LF, in properties also `%3A` `:` and `%2C` `,`; `%25` `%` last. */
export function unescapeGitHub(text: string, property: boolean): string {
  let out = text.replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  if (property) out = out.replace(/%3A/gi, ":").replace(/%2C/gi, ",");
  return out.replace(/%25/g, "%");
}
