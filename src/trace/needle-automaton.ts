import type { Needles, NeedleScanner } from "./needle-types.ts";

/**
 * Finding any of many byte strings in one pass (Aho–Corasick), for masking jobs with many secrets:
 * one table step per byte of output, whatever the number of needles. The table is dense over the
 * needles' byte classes (bytes no needle holds share class 0): 1,000 random 8–31-character values
 * are about 20,000 states × 63 classes, 5 MB.
 */
export class NeedleAutomaton implements Needles {
  readonly needles: readonly Uint8Array[];
  readonly #maxLength: number;
  readonly #classOf = new Uint8Array(256);
  readonly #classes: number;
  /**
   * `#steps[state * classes + class]`: the state after one more byte (failure links folded in),
   * as its row's offset, bitwise negated (`~`) when a needle ends there: one load and one sign test
   * a byte on the way to a match.
   */
  readonly #steps: Int32Array;
  readonly #depth: Int32Array;
  /** The longest needle ending at this state, 0 if none. */
  readonly #longestMatch: Int32Array;
  /** The longest needle through this state (the deepest needle end below it). */
  readonly #longestBelow: Int32Array;
  /** The deepest state on this state's failure chain (itself included) that a longer needle continues. */
  readonly #growingSuffix: Int32Array;

  constructor(needles: readonly Uint8Array[]) {
    this.needles = [...needles].sort((a, b) => b.length - a.length);
    this.#maxLength = this.needles[0]?.length ?? 0;
    let classes = 1;
    for (const needle of this.needles) for (const byte of needle) if (this.#classOf[byte] === 0) this.#classOf[byte] = classes++;
    this.#classes = classes;

    const trie = buildTrie(this.needles, this.#classOf, classes);
    const { next, depth, longestMatch, parent, states } = trie;
    const { fail, order } = linkFailures(trie, classes);
    const longestBelow = new Int32Array(states);
    for (let k = states - 1; k > 0; k--) {
      const state = order[k]!;
      if (longestMatch[state] === depth[state]) longestBelow[state] = Math.max(longestBelow[state]!, depth[state]!);
      longestBelow[parent[state]!] = Math.max(longestBelow[parent[state]!]!, longestBelow[state]!);
    }
    const growingSuffix = new Int32Array(states);
    for (let k = 1; k < states; k++) {
      const state = order[k]!;
      growingSuffix[state] = longestBelow[state]! > depth[state]! ? state : growingSuffix[fail[state]!]!;
    }

    const steps = next.subarray(0, states * classes);
    for (let k = 0; k < steps.length; k++) steps[k] = longestMatch[steps[k]!] !== 0 ? ~(steps[k]! * classes) : steps[k]! * classes;
    this.#steps = steps;
    this.#depth = depth.subarray(0, states);
    this.#longestMatch = longestMatch.subarray(0, states);
    this.#longestBelow = longestBelow;
    this.#growingSuffix = growingSuffix;
  }

  scanner(data: Uint8Array): NeedleScanner {
    const steps = this.#steps;
    const classOf = this.#classOf;
    const classes = this.#classes;
    const longestMatch = this.#longestMatch;
    const maxLength = this.#maxLength;
    const end = data.length;
    let memo: { from: number; hit: { at: number; length: number } | undefined } | undefined;
    return (from) => {
      if (memo !== undefined && from >= memo.from && (memo.hit === undefined || memo.hit.at >= from)) return memo.hit;
      let step = 0;
      let p = from;
      for (; p < end; p++) {
        step = steps[step + classOf[data[p]!]!]!;
        if (step < 0) break;
      }
      if (p >= end) return (memo = { from, hit: undefined }).hit;
      let bestLength = longestMatch[~step / classes]!;
      let best = p - bestLength + 1;
      // A match starting before `best`, or a longer one there, ends within the longest needle's reach.
      for (step = ~step, p++; p < end && p < best + maxLength; p++) {
        step = steps[step + classOf[data[p]!]!]!;
        if (step >= 0) continue;
        step = ~step;
        const length = longestMatch[step / classes]!;
        const at = p - length + 1;
        if (at < best || (at === best && length > bestLength)) {
          best = at;
          bestLength = length;
        }
      }
      const hit = { at: best, length: bestLength };
      memo = { from, hit };
      return hit;
    };
  }

  /** The state after `bytes` from the root, and how many of them stayed on the trie's own paths. */
  #stateAfter(data: Uint8Array, from: number, to: number, onTrieOnly: boolean): number {
    let step = 0;
    for (let p = from; p < to; p++) {
      step = this.#steps[(step < 0 ? ~step : step) + this.#classOf[data[p]!]!]!;
      if (onTrieOnly && this.#depth[(step < 0 ? ~step : step) / this.#classes] !== p - from + 1) return -1;
    }
    return (step < 0 ? ~step : step) / this.#classes;
  }

  couldGrow(data: Uint8Array, at: number, than: number): boolean {
    const available = data.length - at;
    if (available >= this.#maxLength) return false;
    const state = this.#stateAfter(data, at, data.length, true);
    return state !== -1 && this.#longestBelow[state]! > Math.max(than, available);
  }

  partialTail(data: Uint8Array, from: number): number {
    const state = this.#stateAfter(data, Math.max(from, data.length - this.#maxLength + 1), data.length, false);
    const growing = this.#growingSuffix[state]!;
    return growing === 0 ? -1 : data.length - this.#depth[growing]!;
  }
}

interface Trie {
  /** `next[state * classes + class]`: the child state, 0 for none (until the failure links fill it). */
  readonly next: Int32Array;
  readonly depth: Int32Array;
  /** The needle ending at a state (its length), 0 if none: later, the longest ending there. */
  readonly longestMatch: Int32Array;
  readonly parent: Int32Array;
  readonly states: number;
}

function buildTrie(needles: readonly Uint8Array[], classOf: Uint8Array, classes: number): Trie {
  const capacity = 1 + needles.reduce((sum, n) => sum + n.length, 0);
  const next = new Int32Array(capacity * classes);
  const depth = new Int32Array(capacity);
  const longestMatch = new Int32Array(capacity);
  const parent = new Int32Array(capacity);
  let states = 1;
  for (const needle of needles) {
    let state = 0;
    for (const byte of needle) {
      const slot = state * classes + classOf[byte]!;
      if (next[slot] === 0) {
        depth[states] = depth[state]! + 1;
        parent[states] = state;
        next[slot] = states++;
      }
      state = next[slot]!;
    }
    longestMatch[state] = needle.length;
  }
  return { next, depth, longestMatch, parent, states };
}

/**
 * Folds the failure links into `next` (every state gets a step for every class) and carries each
 * state's longest match down its failure chain. Breadth first: a state's failure target is
 * shallower, so its row is complete when needed. Returns the links and the breadth-first order.
 */
function linkFailures({ next, longestMatch, states }: Trie, classes: number): { fail: Int32Array; order: Int32Array } {
  const fail = new Int32Array(states);
  const order = new Int32Array(states);
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const state = order[head++]!;
    const base = state * classes;
    const failBase = fail[state]! * classes;
    for (let c = 0; c < classes; c++) {
      const child = next[base + c]!;
      if (child !== 0) {
        fail[child] = state === 0 ? 0 : next[failBase + c]!;
        if (longestMatch[child] === 0) longestMatch[child] = longestMatch[fail[child]!]!;
        order[tail++] = child;
      } else {
        next[base + c] = state === 0 ? 0 : next[failBase + c]!;
      }
    }
  }
  return { fail, order };
}
