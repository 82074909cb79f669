import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * A real S3-compatible server on 127.0.0.1 for the tests: `@20minutes/s3rver` 4.0.4 (the maintained
 * fork of s3rver), which checks SigV4 signatures, headers and pre-signed URLs alike, and refuses
 * tampered or expired ones. It runs under Node in a process of its own, with one bucket.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Where it keeps the objects (`<bucket>/<key>._S3rver_object`). */
  readonly directory: string;
  stop(): Promise<void>;
}

const SERVER = `
const S3rver = require(process.argv[1] + "/node_modules/@20minutes/s3rver");
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: process.argv[2], configureBuckets: [{ name: process.argv[3] }] });
server.run().then(({ port }) => console.log("listening " + port)).catch((e) => { console.error(e); process.exit(1); });
`;

export async function startS3(bucket = "runner-cache"): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "runner-s3-"));
  const root = resolve(import.meta.dir, "../..");
  const child = Bun.spawn(["node", "-e", SERVER, root, directory, bucket], { stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  let said = "";
  while (!/listening \d+/.test(said)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the S3 server did not start: ${await new Response(child.stderr).text()}`);
    said += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const port = Number(/listening (\d+)/.exec(said)![1]);
  return {
    endpoint: `127.0.0.1:${port}`, bucket, accessKey: "S3RVER", secretKey: "S3RVER", directory,
    stop: async () => {
      child.kill();
      await child.exited;
    },
  };
}
