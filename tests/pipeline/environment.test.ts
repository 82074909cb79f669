import { describe, expect, test } from "bun:test";
import { environmentSlug } from "../../src/pipeline/environment.ts";

/** The last 6 base-36 digits of the SHA-256 of the name, as GitLab appends them. */
const suffix = (name: string) => BigInt(`0x${new Bun.CryptoHasher("sha256").update(name).digest("hex")}`).toString(36).slice(-6);

describe("environmentSlug: GitLab's Gitlab::Slug::Environment (its spec's table)", () => {
  // GitLab's spec stubs the digest so that every suffix is q517sa; here the real suffix follows.
  test.each([
    ["staging-12345678901234567", "staging-123456789-q517sa"],
    ["9-staging-123456789012345", "env-9-staging-123-q517sa"],
    ["staging-1234567890123456", "staging-1234567890123456"],
    ["staging-1234567890123456-", "staging-123456789-q517sa"],
    ["production", "production"],
    ["PRODUCTION", "production-q517sa"],
    ["review/1-foo", "review-1-foo-q517sa"],
    ["1-foo", "env-1-foo-q517sa"],
    ["1/foo", "env-1-foo-q517sa"],
    ["foo-", "foo"],
    ["foo--bar", "foo-bar-q517sa"],
    ["foo**bar", "foo-bar-q517sa"],
    ["*-foo", "env-foo-q517sa"],
    ["staging-12345678-", "staging-12345678"],
    ["staging-12345678-01234567", "staging-12345678-q517sa"],
    ["", "env-q517sa"],
  ])("%p", (name, gitlab) => {
    expect(environmentSlug(name)).toBe(gitlab.endsWith("q517sa") ? `${gitlab.slice(0, -6)}${suffix(name)}` : gitlab);
  });

  test("the suffix arithmetic is Ruby's: ('a' * 64).to_i(16).to_s(36).last(6) is q517sa", () => {
    expect(BigInt(`0x${"a".repeat(64)}`).toString(36).slice(-6)).toBe("q517sa");
  });
});
