/**
 * A loud job makes garbage as fast as it prints: a fresh buffer for every pipe read (~12 KiB) and
 * for every 1 MiB PATCH. Left to itself the collector let the runner's resident set reach ~170 MiB
 * on a 1 GiB trace (bench/daemon.ts); a full collection every 24 MiB moved through keeps it near
 * 130 MiB for well under 1% of the time. One per job trace, shared by what writes and sends it.
 */
export class GarbageCadence {
  #since = 0;

  constructor(private readonly everyBytes = 24 * 1024 * 1024) {}

  /** `bytes` more went through; collects when enough has. */
  passed(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.everyBytes) return;
    this.#since = 0;
    Bun.gc(true);
  }
}
