import { describe, expect, test } from "bun:test";
import { NeedleAutomaton } from "../../src/trace/needle-automaton.ts";
import type { Needles } from "../../src/trace/needle-types.ts";
import { HeadSearch, needleSearch } from "../../src/trace/needles.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

/** Bytes over a small alphabet, so that needles overlap, nest and share prefixes often. */
function randomBytes(random: () => number, length: number, alphabet = "abc"): Uint8Array {
  return Uint8Array.from({ length }, () => alphabet.charCodeAt(Math.floor(random() * alphabet.length)));
}

/** What every search must answer, by brute force over every position and needle. */
const reference = {
  matches(needles: readonly Uint8Array[], data: Uint8Array): { at: number; length: number }[] {
    const found: { at: number; length: number }[] = [];
    for (let from = 0; from < data.length; ) {
      let hit: { at: number; length: number } | undefined;
      for (let at = from; at < data.length && hit === undefined; at++) {
        for (const n of needles) if (at + n.length <= data.length && n.every((b, k) => data[at + k] === b) && n.length > (hit?.length ?? 0)) hit = { at, length: n.length };
      }
      if (hit === undefined) break;
      found.push(hit);
      from = hit.at + hit.length;
    }
    return found;
  },
  couldGrow(needles: readonly Uint8Array[], data: Uint8Array, at: number, than: number): boolean {
    const available = data.length - at;
    return needles.some((n) => n.length > than && n.length > available && data.subarray(at).every((b, k) => n[k] === b));
  },
  partialTail(needles: readonly Uint8Array[], data: Uint8Array, from: number): number {
    for (let at = from; at < data.length; at++) if (reference.couldGrow(needles, data, at, 0)) return at;
    return -1;
  },
};

function matchesOf(search: Needles, data: Uint8Array): { at: number; length: number }[] {
  const next = search.scanner(data);
  const found: { at: number; length: number }[] = [];
  for (let hit = next(0); hit !== undefined; hit = next(hit.at + hit.length)) found.push(hit);
  return found;
}

describe("needle searches agree with a brute-force search", () => {
  // Short needles: HeadSearch looks at a chunk's tail itself (src/trace/looked-tails.ts); over 32
  // bytes it asks the automaton. Both roads, and the automaton alone, against the reference.
  const short = { length: (random: () => number) => 1 + Math.floor(random() * 6), data: 60, alphabet: "abc" };
  const long = { length: (random: () => number) => 33 + Math.floor(random() * 8), data: 120, alphabet: "ab" };
  const searches: [string, (needles: Uint8Array[]) => Needles, typeof short][] = [
    ["native searches per head, short needles (tails looked at)", (n) => new HeadSearch(n), short],
    ["native searches per head, needles over 32 bytes (the automaton's tails)", (n) => new HeadSearch(n), long],
    ["the automaton", (n) => new NeedleAutomaton(n), short],
  ];
  for (const [name, make, sizes] of searches) {
    test(`${name}: 2,000 random needle sets and texts, every answer as the reference`, () => {
      const random = seededRandom(20261202);
      let differences = 0;
      for (let round = 0; round < 2000; round++) {
        const needles = Array.from({ length: 1 + Math.floor(random() * 12) }, () => randomBytes(random, sizes.length(random), sizes.alphabet));
        const data = randomBytes(random, Math.floor(random() * sizes.data), sizes.alphabet);
        const search = make(needles);
        if (JSON.stringify(matchesOf(search, data)) !== JSON.stringify(reference.matches(needles, data))) differences++;
        for (let at = 0; at <= data.length; at++) {
          const than = Math.floor(random() * 4);
          if (search.couldGrow(data, at, than) !== reference.couldGrow(needles, data, at, than)) differences++;
          if (search.partialTail(data, at) !== reference.partialTail(needles, data, at)) differences++;
        }
      }
      expect(differences).toBe(0);
    });
  }

  test("a scanner asked again from a later place answers as a fresh one", () => {
    const search = new NeedleAutomaton([new TextEncoder().encode("abcdef"), new TextEncoder().encode("cd")]);
    const data = new TextEncoder().encode("xxabcdefcd");
    const next = search.scanner(data);
    expect(next(0)).toEqual({ at: 2, length: 6 });
    expect(next(3)).toEqual({ at: 4, length: 2 });
    expect(next(6)).toEqual({ at: 8, length: 2 });
    expect(next(9)).toBeUndefined();
  });
});

describe("choosing the search", () => {
  test("few needles get the native search, many (or many heads) the automaton", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(needleSearch(["glpat-", "glrt-", "GR1348941"].map(bytes))).toBeInstanceOf(HeadSearch);
    expect(needleSearch(Array.from({ length: 9 }, (_, i) => bytes(`${String.fromCharCode(97 + i)}x-secret`)))).toBeInstanceOf(NeedleAutomaton);
    expect(needleSearch(Array.from({ length: 17 }, (_, i) => bytes(`secret-${i}`)))).toBeInstanceOf(NeedleAutomaton);
  });

  test("needles holding every byte value are found (the 256th byte class wraps to 0, which no other byte has then)", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const needles = [all.subarray(0, 128), all.subarray(128), Uint8Array.from([255, 0])];
    const data = Uint8Array.from([7, ...all, 255, 0, 9]);
    for (const search of [new NeedleAutomaton(needles), new HeadSearch(needles)]) {
      expect(matchesOf(search, data)).toEqual(reference.matches(needles, data));
    }
  });
});
