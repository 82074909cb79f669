import { describe, expect, test } from "bun:test";
import { createMasker, tokenPrefixes } from "../../src/trace/masking.ts";
import { phraseMasker } from "../../src/trace/phrase-masker.ts";
import type { StreamFilter } from "../../src/trace/stream-filter.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function runChunks(filter: StreamFilter, input: string, cuts: readonly number[]): string {
  const bytes = encoder.encode(input);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(filter.write(bytes.subarray(start, cut)));
    start = cut;
  }
  parts.push(filter.end());
  return decoder.decode(Buffer.concat(parts));
}

function randomCuts(length: number, random: () => number): number[] {
  const count = Math.floor(random() * Math.min(length, 40));
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

describe("phrase masking", () => {
  test("masks every occurrence of a phrase", () => {
    expect(runChunks(phraseMasker(["s3cr3t"]), "a s3cr3t b s3cr3ts3cr3t", [])).toBe("a [MASKED] b [MASKED][MASKED]");
  });

  test("masks a phrase split across writes", () => {
    expect(runChunks(phraseMasker(["s3cr3t"]), "x s3cr3t y", [3, 4, 5])).toBe("x [MASKED] y");
  });

  test("applies longer phrases first", () => {
    expect(runChunks(phraseMasker(["abc", "abcdef"]), "abcdef abc", [])).toBe("[MASKED] [MASKED]");
    expect(runChunks(phraseMasker(["abc", "abcdef"]), "abcdeX", [4])).toBe("[MASKED]deX");
  });

  test("releases held bytes when a partial match fails or the stream ends", () => {
    expect(runChunks(phraseMasker(["secret"]), "the secre", [7])).toBe("the secre");
  });

  test("trims phrases and ignores empty ones", () => {
    expect(runChunks(phraseMasker(["  tok  ", "", "   "]), "a tok b", [])).toBe("a [MASKED] b");
  });

  test("handles multi-byte characters split between writes", () => {
    expect(runChunks(phraseMasker(["pässwörd"]), "x pässwörd y", [4, 9])).toBe("x [MASKED] y");
  });
});

describe("token prefixes", () => {
  test("keep the prefix and mask the token", () => {
    const masker = createMasker({ phrases: [] });
    expect(runChunks(masker, "token glpat-abc123_XY.z= end", [])).toBe("token glpat-[MASKED] end");
  });

  test("mask a token split across writes and at the end of the stream", () => {
    expect(runChunks(createMasker({ phrases: [] }), "glrt-abcdef", [2, 6, 8])).toBe("glrt-[MASKED]");
  });

  test("leave a bare prefix alone", () => {
    expect(runChunks(createMasker({ phrases: [] }), "glpat- x", [])).toBe("glpat- x");
  });

  test("add the job's own prefixes, at most 15 kept, shortest first", () => {
    const masker = createMasker({ phrases: [], tokenPrefixes: ["acme-"] });
    expect(runChunks(masker, "acme-XYZ", [])).toBe("acme-[MASKED]");
    const many = Array.from({ length: 20 }, (_, i) => `custom${"x".repeat(i)}-`);
    const kept = tokenPrefixes(many);
    expect(kept.length).toBe(15);
    expect(kept).toContain("glpat-");
    expect(kept).not.toContain("_gitlab_session=");
  });
});

describe("secrets that used to leak", () => {
  test("a legacy registration token (GR1348941…) is masked as GitLab Runner masks it", () => {
    expect(runChunks(createMasker({ phrases: [] }), "token GR1348941abcDEF123_-xyz end", [8, 12])).toBe("token GR1348941[MASKED] end");
  });

  test("a token holding a short masked value is masked whole, not from the masked value on", () => {
    const masker = createMasker({ phrases: ["s3cr"] });
    const out = runChunks(masker, "glpat-abs3crAbCdEf9 and glpat-s3cr", [14]);
    expect(out).toBe("glpat-[MASKED] and glpat-[MASKED]");
    expect(out).not.toContain("AbCd");
  });

  test("each line of a multi-line secret is masked alone (lines of 8 characters or more)", () => {
    const key = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA7x9\nshortish\n}\n-----END KEY-----";
    const masker = createMasker({ phrases: [key] });
    const out = runChunks(masker, `whole:${key}\nline:MIIEowIBAAKCAQEA7x9\nbrace:}\n`, [10, 30]);
    expect(out).toBe("whole:[MASKED]\nline:[MASKED]\nbrace:}\n");
  });
});

describe("URL parameters", () => {
  test("mask sensitive parameter values, case-insensitively", () => {
    const masker = createMasker({ phrases: [] });
    const out = runChunks(masker, "GET /x?private_token=abc&x=1&X-Amz-Signature=f00 done", []);
    expect(out).toBe("GET /x?private_token=[MASKED]&x=1&X-Amz-Signature=[MASKED] done");
  });
});

describe("masking under random chunkings", () => {
  const secrets = ["s3cr3t-Pa55w0rd", "hunter2hunter2", "ab", "aaaaab", "key9", "key9-and-more"];
  const tokens = ["glpat-Zq9xY8wV7uT6", "glcbt-64_hN3vK8sQ2mZ7pW4tR9xY"];
  const input = [
    "start s3cr3t-Pa55w0rd and hunter2hunter2hunter2hunter2 ab",
    "aaaaaab aaaaab token glpat-Zq9xY8wV7uT6 then glcbt-64_hN3vK8sQ2mZ7pW4tR9xY",
    "url https://h/x?private_token=s3cr3t-Pa55w0rd&rss_token=zzz9 s3cr3t-Pa55w0rds3cr3t-Pa55w0rd end",
    "key9-and-more key9-and key9",
  ].join("\n");
  const whole = runChunks(createMasker({ phrases: secrets }), input, []);

  test("the unchunked output has no secret", () => {
    for (const leak of [...secrets.filter((s) => s.length > 2), ...tokens.map((t) => t.slice(6)), "zzz9"]) {
      expect(whole).not.toContain(leak);
    }
  });

  test("1,000 random chunkings give exactly the unchunked output, with zero leaks", () => {
    const random = seededRandom(20261122);
    let leaks = 0;
    for (let i = 0; i < 1000; i++) {
      const out = runChunks(createMasker({ phrases: secrets }), input, randomCuts(input.length, random));
      if (out !== whole) leaks++;
    }
    expect(leaks).toBe(0);
  });

  // 40 more values (never printed) take the phrases past the native search to the automaton.
  const decoys = Array.from({ length: 40 }, (_, i) => `${String.fromCharCode(65 + (i % 26))}${i}-decoy-value`);
  test("with many masked values (the automaton): the same output under 1,000 random chunkings", () => {
    expect(runChunks(createMasker({ phrases: [...secrets, ...decoys] }), input, [])).toBe(whole);
    const random = seededRandom(20261202);
    let leaks = 0;
    for (let i = 0; i < 1000; i++) {
      const out = runChunks(createMasker({ phrases: [...secrets, ...decoys] }), input, randomCuts(input.length, random));
      if (out !== whole) leaks++;
    }
    expect(leaks).toBe(0);
  });
});
