import { utf8 } from "./bytes.ts";
import { createMasker, type MaskingRules } from "./masking.ts";
import type { StreamFilter } from "./stream-filter.ts";

/**
 * The two maskers of a job's trace (the runner's lines, the script's output) and the phrases they
 * hide. A phrase added by a job command applies from then on: the maskers are made anew with it,
 * after releasing what they held (to `flush`, for each stream).
 */
export class TraceMaskers {
  readonly #rules: MaskingRules;
  readonly #phrases: string[];
  #runner: StreamFilter;
  #script: StreamFilter;

  constructor(rules: MaskingRules, private readonly flush: (runner: Uint8Array, script: Uint8Array) => void) {
    this.#rules = rules;
    this.#phrases = [...rules.phrases];
    this.#runner = createMasker(rules);
    this.#script = createMasker(rules);
  }

  runner(bytes: Uint8Array): Uint8Array {
    return this.#runner.write(bytes);
  }

  script(bytes: Uint8Array): Uint8Array {
    return this.#script.write(bytes);
  }

  endRunner(): Uint8Array {
    return this.#runner.end();
  }

  endScript(): Uint8Array {
    return this.#script.end();
  }

  /** Masks `value` (and each line of 8 characters or more of a multi-line one) from now on; the phrases it adds. */
  add(value: string): string[] {
    const added = maskablePhrases(value).filter((p) => !this.#phrases.includes(p));
    if (added.length === 0) return [];
    this.#phrases.push(...added);
    this.flush(this.#runner.end(), this.#script.end());
    this.#runner = createMasker({ ...this.#rules, phrases: this.#phrases });
    this.#script = createMasker({ ...this.#rules, phrases: this.#phrases });
    return added;
  }

  /** A text masked with every phrase known now (an issue's message, say). */
  mask(text: string): string {
    const masker = createMasker({ ...this.#rules, phrases: this.#phrases });
    const head = masker.write(utf8(text));
    return new TextDecoder().decode(head) + new TextDecoder().decode(masker.end());
  }
}

function maskablePhrases(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed === "") return [];
  const lines = trimmed.includes("\n") ? trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 8) : [];
  return [trimmed, ...lines];
}
