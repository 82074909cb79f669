/**
 * The daemon's trace pipeline in one process, without the pipe and the network: a stage's output
 * through the job trace (script-line marks, job commands, masking with GitLab's token prefixes and
 * three masked values), one timestamper per stream and the trace buffer's file, in the chunk sizes
 * a pipe gives (8 KiB from `head`, 64 KiB when the reader falls behind), each a fresh plain
 * Uint8Array as the reader hands them over. Interleaved rounds,
 * medians; the first round warms the JIT and is not counted. Then the floor under the daemon's
 * figure: the job's producer read through a pipe, nothing done. Prints figures; asserts nothing.
 * `BENCH_MIB` (default 256) is the output of one round.
 */
import { supervise } from "../src/shell/supervisor.ts";
import { JobTrace, type TraceStream } from "../src/trace/job-trace.ts";
import { Timestamper } from "../src/trace/timestamper.ts";
import { TraceBuffer } from "../src/trace/trace-buffer.ts";
import { TraceFileWriter } from "../src/trace/trace-file-writer.ts";

const TOTAL = Number(process.env.BENCH_MIB ?? 256) * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const line = "a line of trace output, ninety-nine bytes long, as a build tool might print it, over and over ..\n";
const output = Buffer.from(line.repeat(Math.ceil(65536 / line.length)));
const secret = () => Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
const phrases = [secret(), secret(), secret()];

type Stage = "job trace" | "job trace, timestamps" | "job trace, timestamps, buffer" | "the same, file by its thread";
const stages: Stage[] = ["job trace", "job trace, timestamps", "job trace, timestamps, buffer", "the same, file by its thread"];
const writer = new TraceFileWriter();

/** MB/s of stage output through `stage`, fed `size` bytes at a time (a fresh buffer each, as a pipe gives). */
function round(stage: Stage, size: number): number {
  const buffer = new TraceBuffer({ limit: 2 ** 40, ...(stage === "the same, file by its thread" ? { writer } : {}) });
  const stampers = new Map<string, Timestamper>();
  let discarded = 0;
  const store = stage === "job trace, timestamps, buffer" || stage === "the same, file by its thread" ? (bytes: Uint8Array) => buffer.write(bytes) : (bytes: Uint8Array) => void (discarded += bytes.length);
  const sink = {
    write(bytes: Uint8Array, stream: TraceStream) {
      if (stage === "job trace") return void (discarded += bytes.length);
      const key = `${stream.id}${stream.type}`;
      let stamper = stampers.get(key);
      if (!stamper) stampers.set(key, (stamper = new Timestamper({ id: stream.id, type: stream.type, write: store })));
      stamper.write(bytes);
    },
  };
  const trace = new JobTrace({ sink, sections: true, masking: { phrases, tokenPrefixes: [], allDefaultTokens: true } });
  const chunk = output.subarray(0, size);
  const started = performance.now();
  // A plain Uint8Array each, as a pipe's reader gives them (a Buffer would hide what a view of one costs).
  for (let n = 0; n < TOTAL; n += size) trace.stdout.write(new Uint8Array(chunk));
  buffer.close(); // waits for the file's last writes
  const seconds = (performance.now() - started) / 1000;
  return TOTAL / 1e6 / seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sizes = [8192, 65536];
const figures = new Map<string, number[]>();
for (let r = 0; r <= ROUNDS; r++) {
  for (const size of sizes) for (const stage of stages) {
    const mbps = round(stage, size);
    if (r > 0) figures.set(`${stage}|${size}`, [...(figures.get(`${stage}|${size}`) ?? []), mbps]);
  }
}
console.log(`trace pipeline, ${TOTAL / 1048576} MiB of 97-byte lines a round, ${ROUNDS} rounds, medians`);
for (const stage of stages) {
  console.log(`  ${stage.padEnd(30)} ${sizes.map((size) => `${size / 1024} KiB chunks ${median(figures.get(`${stage}|${size}`)!).toFixed(0).padStart(5)} MB/s`).join("   ")}`);
}

// The floor under the daemon's figure: the same producer as bench/daemon.ts's job, its output read
// as the shell executor reads a stage's (the supervisor, one OS pipe for stdout and stderr) with
// nothing done with the bytes.
const producer = `{ yes '${line.slice(0, -1)}' || true; } | head -c ${TOTAL / 1048576}M`;
const reads: number[] = [];
let chunks = 0;
for (let r = 0; r <= ROUNDS; r++) {
  const started = performance.now();
  let bytes = 0;
  let count = 0;
  await supervise(["bash", "-c", producer], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, sharedOutput: true, onStdout: (chunk) => (bytes += chunk.length, count++) });
  if (r > 0) (reads.push(bytes / 1e6 / ((performance.now() - started) / 1000)), (chunks = bytes / count));
}
console.log(`  the producer's pipe, only read  ${median(reads).toFixed(0).padStart(5)} MB/s (chunks of ${(chunks / 1024).toFixed(1)} KiB on average)`);
