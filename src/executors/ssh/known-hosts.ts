
/** What known_hosts says of a host's key. */
export type HostKeyVerdict =
  | { readonly kind: "known" }
  | { readonly kind: "unknown"; readonly fingerprint: string }
  | { readonly kind: "changed"; readonly fingerprint: string }
  | { readonly kind: "revoked"; readonly fingerprint: string };

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64. */
export function fingerprint(key: Uint8Array): string {
  return `SHA256:${new Bun.CryptoHasher("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Checks a host's public key (its SSH wire blob) against the text of a known_hosts file, as OpenSSH
 * does: plain and hashed (`|1|salt|hash`) host names, `[host]:port` for ports other than 22, and
 * `@revoked` lines. A host listed with other keys only has `changed`.
 */
export function checkHostKey(knownHosts: string, host: string, port: number, key: Uint8Array): HostKeyVerdict {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const print = fingerprint(key);
  const offered = Buffer.from(key).toString("base64");
  let listed = false;
  let matched = false;
  for (const raw of knownHosts.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith("@") ? fields.shift() : undefined;
    const [hosts = "", , blob = ""] = fields;
    if (marker === "@cert-authority" || !hosts.split(",").some((pattern) => hostMatches(pattern, name))) continue;
    if (marker === "@revoked") {
      if (blob === offered) return { kind: "revoked", fingerprint: print };
      continue;
    }
    listed = true;
    if (blob === offered) matched = true;
  }
  if (matched) return { kind: "known" };
  return listed ? { kind: "changed", fingerprint: print } : { kind: "unknown", fingerprint: print };
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt = "", hash = ""] = pattern.split("|");
    return new Bun.CryptoHasher("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return pattern === name;
}
