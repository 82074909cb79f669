import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * The runner manager's `system_id` (docs/protocol.md §2.2): `s_` + 12 hex of
 * HMAC-SHA256(machine-id, "gitlab-runner"), or `r_` + 12 random alphanumerics without a machine id,
 * kept in `.runner_system_id` beside config.toml so that it survives restarts.
 */
export async function loadSystemId(configFile: string, machineIdFile = "/etc/machine-id"): Promise<string> {
  const stateFile = join(dirname(configFile), ".runner_system_id");
  if (existsSync(stateFile)) {
    const stored = readFileSync(stateFile, "utf8").trim();
    if (/^[sr]_[0-9A-Za-z]{12}$/.test(stored)) return stored;
  }
  const id = computeSystemId(machineIdFile);
  await writeFile(stateFile, `${id}\n`, { mode: 0o600 }).catch(() => {});
  return id;
}

export function computeSystemId(machineIdFile: string): string {
  const machineId = existsSync(machineIdFile) ? readFileSync(machineIdFile, "utf8").trim() : "";
  if (machineId !== "") {
    return `s_${new Bun.CryptoHasher("sha256", machineId).update("gitlab-runner").digest("hex").slice(0, 12)}`;
  }
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return `r_${[...crypto.getRandomValues(new Uint8Array(12))].map((b) => alphabet[b % alphabet.length]).join("")}`;
}
