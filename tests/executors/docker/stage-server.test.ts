import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarkerSplitter, SERVER_COMMAND, serverCommand } from "../../../src/executors/docker/stage-server.ts";

function split(chunks: string[]): { data: string; markers: string[] } {
  let data = "";
  const markers: string[] = [];
  const splitter = new MarkerSplitter((b) => (data += b.toString("latin1")), (m) => markers.push(m));
  for (const chunk of chunks) splitter.push(Buffer.from(chunk, "latin1"));
  return { data, markers };
}

describe("the stage server's end markers", () => {
  test("a marker is taken out of the output, even split across chunks at any byte", () => {
    const stream = "out 1\n\x01runner-stage-end abc 3\x01";
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(split([stream.slice(0, cut), stream.slice(cut)])).toEqual({ data: "out 1\n", markers: ["runner-stage-end abc 3"] });
    }
  });

  test("a \\x01 of the job's own output passes through untouched", () => {
    expect(split(["a\x01b\x01c", "\x01runner-stage-end x 0\x01tail"])).toEqual({
      data: "a\x01b\x01ctail", markers: ["runner-stage-end x 0"],
    });
  });
});

describe("the stage server's end", () => {
  // The job's end tells the server to stop, so that its container stops by itself before removal
  // (removing a running container makes the engine kill it first: ~70-100 ms more).
  test("`exit` ends it at once, its stdin still open; other lines are skipped", async () => {
    const server = Bun.spawn([...SERVER_COMMAND], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    server.stdin.write("not-a-stage-id!\n");
    server.stdin.flush();
    await Bun.sleep(100);
    expect(server.exitCode).toBeNull();
    server.stdin.write("exit\n");
    server.stdin.flush();
    const code = await Promise.race([server.exited, Bun.sleep(3000).then(() => "still running")]);
    expect(code).toBe(0);
    expect(await new Response(server.stdout).text()).toMatch(/^runner-shell=(bash|sh) runner-user=/);
  });
});

describe("the container's command", () => {
  /** What the command says first (its greeting), read up to the first line end. */
  async function firstLine(argv: string[]): Promise<string> {
    const server = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    let said = "";
    for await (const chunk of server.stdout) {
      said += Buffer.from(chunk).toString();
      if (said.includes("\n")) break;
    }
    server.kill();
    return said.split("\n")[0]!;
  }

  test("`runner helper serve` when the tools volume is complete, else the sh server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-tools-"));
    const serve = { complete: join(dir, ".complete"), command: "echo runner-helper-serve-ran" };
    expect(await firstLine(serverCommand(serve))).toMatch(/^runner-shell=(bash|sh) runner-user=/);
    writeFileSync(serve.complete, "");
    expect(await firstLine(serverCommand(serve))).toBe("runner-helper-serve-ran");
    expect(serverCommand()).toEqual(SERVER_COMMAND);
  });
});
