import { utf8 } from "./bytes.ts";
import { maskerFactory, type MaskingRules } from "./masking.ts";
import type { StreamFilter } from "./stream-filter.ts";

/**
 * The two maskers of a job's trace (the runner's lines, the script's output) and the phrases they
 * hide. A phrase added by a job command applies from then on: the maskers are made anew with it,
 * after releasing what they held (to `flush`, for each stream).
 */
export class TraceMaskers {
  readonly #rules: MaskingRules;
  readonly #phrases: string[];
  /** One phrase search for both streams and for {@link mask}, made anew when a phrase is added. */
  #maskers: () => StreamFilter;
  #runner: StreamFilter;
  #script: StreamFilter;

  constructor(rules: MaskingRules, private readonly flush: (runner: Uint8Array, script: Uint8Array) => void) {
    this.#rules = rules;
    this.#phrases = [...rules.phrases];
    this.#maskers = maskerFactory(rules);
    this.#runner = this.#maskers();
    this.#script = this.#maskers();
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

  /**
   * Masks `value` from now on (the phrase masker also masks each line of 8 characters or more of a
   * multi-line one); returns it trimmed when it is new, else nothing.
   */
  add(value: string): string[] {
    const phrase = value.trim();
    if (phrase === "" || this.#phrases.includes(phrase)) return [];
    this.#phrases.push(phrase);
    this.flush(this.#runner.end(), this.#script.end());
    this.#maskers = maskerFactory({ ...this.#rules, phrases: this.#phrases });
    this.#runner = this.#maskers();
    this.#script = this.#maskers();
    return [phrase];
  }

  /** A text masked with every phrase known now (an issue's message, say). */
  mask(text: string): string {
    const masker = this.#maskers();
    const head = masker.write(utf8(text));
    return new TextDecoder().decode(head) + new TextDecoder().decode(masker.end());
  }
}
