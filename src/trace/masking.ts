import { phraseMaskerWith, phraseSearch } from "./phrase-masker.ts";
import { chainFilters, type StreamFilter } from "./stream-filter.ts";
import { prefixFinder, valueMasker } from "./value-masker.ts";

/** Token prefixes masked by default (`FF_MASK_ALL_DEFAULT_TOKENS`, on by default; docs/protocol.md §10). */
export const DEFAULT_TOKEN_PREFIXES: readonly string[] = [
  "glpat-", "gloas-", "gldt-", "glrt-", "glcbt-", "glrtr-", "glptt-", "glft-", "glimt-", "glagent-",
  "glsoat-", "glffct-", "_gitlab_session=", "gltok-",
  // A legacy runner registration token (GitLab's token overview: "GR1348941").
  "GR1348941",
];

/** URL parameters whose values are masked after `?key=` or `&key=`, case-insensitively. */
export const SENSITIVE_URL_PARAMETERS: readonly string[] = [
  "private_token", "authenticity_token", "rss_token", "x-amz-signature", "x-amz-credential",
  "x-amz-security-token",
];

const MAX_TOKEN_PREFIXES = 15;

/** What to mask in one job's trace. */
export interface MaskingRules {
  /** Values of masked variables, after expansion. */
  readonly phrases: readonly string[];
  /** Extra token prefixes from the job's `features.token_mask_prefixes`. */
  readonly tokenPrefixes?: readonly string[];
  /** `FF_MASK_ALL_DEFAULT_TOKENS` (on by default): every GitLab token prefix, else `glpat-` only. */
  readonly allDefaultTokens?: boolean;
}

/**
 * The masking pipeline for one output stream: phrases, then URL parameters, then token prefixes
 * (docs/protocol.md §10). Each stream of a job gets its own, since each keeps partial-match state.
 */
export function createMasker(rules: MaskingRules): StreamFilter {
  return maskerFactory(rules)();
}

/**
 * Makes maskers for `rules` that share one phrase search (the costly part with many masked values):
 * each masker keeps its own partial-match state.
 */
export function maskerFactory(rules: MaskingRules): () => StreamFilter {
  const phrases = phraseSearch(rules.phrases);
  const urlParameters = prefixFinder({ prefixes: SENSITIVE_URL_PARAMETERS.flatMap((key) => [`?${key}=`, `&${key}=`]), caseInsensitive: true });
  const tokens = prefixFinder({ prefixes: tokenPrefixes(rules.tokenPrefixes ?? [], rules.allDefaultTokens ?? true) });
  return () => chainFilters([
    phraseMaskerWith(phrases),
    valueMasker({ prefixes: urlParameters, isValueByte: isUrlValueByte }),
    valueMasker({ prefixes: tokens, isValueByte: isTokenByte, absorbMasks: true }),
  ]);
}

/**
 * At most 15 distinct prefixes, shortest first, so an overflow drops the longest ones; without
 * `allDefaults` (`FF_MASK_ALL_DEFAULT_TOKENS=false`) only `glpat-` of the defaults.
 */
export function tokenPrefixes(extra: readonly string[], allDefaults = true): string[] {
  const defaults = allDefaults ? DEFAULT_TOKEN_PREFIXES : ["glpat-"];
  const all = [...new Set([...defaults, ...extra].map((p) => p.trim()).filter((p) => p.length > 0))];
  return all.sort((a, b) => a.length - b.length).slice(0, MAX_TOKEN_PREFIXES);
}

const TOKEN_BYTES = new Uint8Array(256);
for (const c of "-._=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_BYTES[c.charCodeAt(0)] = 1;
}

function isTokenByte(byte: number): boolean {
  return TOKEN_BYTES[byte] === 1;
}

/** A URL parameter value ends at `?`, `&`, white space or a control character. */
function isUrlValueByte(byte: number): boolean {
  return byte !== 0x3f && byte !== 0x26 && byte > 0x20 && byte !== 0x7f;
}
