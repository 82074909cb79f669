/**
 * The trace masker's throughput against the number of masked values (1, 100, 1,000 secrets: random
 * ones, and ones sharing a prefix), on 256 MiB of ordinary output in 64 KiB chunks. Prints figures;
 * asserts nothing.
 */
import { createMasker } from "../src/trace/masking.ts";

const line = "2026-12-02 the job prints a line of ordinary output, about eighty bytes long....\n";
const chunk = new TextEncoder().encode(line.repeat(Math.floor(65536 / line.length)));
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * 1024 * 1024;
const random = (i: number) => crypto.getRandomValues(new Uint8Array(8 + (i % 24))).reduce((s, b) => s + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[b % 62], "");
for (const [kind, make] of [["random", random], ["one prefix", (i: number) => `secret-${i}-${"x".repeat(4 + (i % 29))}`]] as const)
for (const count of [1, 100, 1000]) {
  const phrases = Array.from({ length: count }, (_, i) => make(i));
  const masker = createMasker({ phrases });
  const started = performance.now();
  for (let n = 0; n < TOTAL; n += chunk.length) masker.write(chunk);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${kind.padEnd(11)} ${String(count).padStart(5)} masked values  ${(TOTAL / 1e6 / seconds).toFixed(0).padStart(5)} MB/s`);
}
