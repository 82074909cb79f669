import { describe, expect, test } from "bun:test";
import { MarkerSplitter } from "../../../src/executors/docker/stage-server.ts";

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
