/**
 * A loud job makes garbage as fast as it prints: a fresh buffer for every pipe read (~12 KiB) and
 * for every 1 MiB PATCH. On a 1 GiB trace (bench/daemon.ts, two cores) the runner's peak resident
 * set is 118-127 MiB with no forced collection, 100-107 MiB with one every 128 MiB moved through,
 * and no lower with one every 24 MiB, which cost a fifth of the runner's CPU (throughput 183-214 MB/s
 * against 264-286). One per job trace, shared by what writes and sends it.
 */
export class GarbageCadence {
  #since = 0;

  constructor(private readonly everyBytes = 128 * 1024 * 1024) {}

  /** `bytes` more went through; collects when enough has. */
  passed(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.everyBytes) return;
    this.#since = 0;
    Bun.gc(true);
  }
}
