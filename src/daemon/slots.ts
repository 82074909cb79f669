/** A counting semaphore whose waits can be abandoned with a signal. */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  /** Takes a slot; false when `signal` aborted first. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    while (this.#free === 0) {
      if (signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener("abort", wake);
          const i = this.#waiting.indexOf(wake);
          if (i >= 0) this.#waiting.splice(i, 1);
          resolve();
        };
        this.#waiting.push(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
    if (signal?.aborted) return false;
    this.#free--;
    return true;
  }

  release(): void {
    this.#free++;
    this.#waiting.shift()?.();
  }
}
