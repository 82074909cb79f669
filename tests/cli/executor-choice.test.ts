import { describe, expect, test } from "bun:test";
import { chooseExecutors, describeChoices, needsEngineProbe } from "../../src/cli/executor-choice.ts";
import type { JobDefinition } from "../../src/pipeline/definitions.ts";

/** Only the name and the image take part in the choice. */
const job = (name: string, image?: string) => ({ name, ...(image ? { image: { name: image } } : {}) }) as unknown as JobDefinition;
const engine = { where: "unix:///var/run/docker.sock", answers: true };

describe("which executor each job of runner exec gets", () => {
  test("the engine is asked only when a job has an image and nothing is forced", () => {
    expect(needsEngineProbe([job("a"), job("b")], {})).toBe(false);
    expect(needsEngineProbe([job("a"), job("b", "alpine")], {})).toBe(true);
    expect(needsEngineProbe([job("a")], { defaultImage: "alpine" })).toBe(true);
    expect(needsEngineProbe([job("b", "alpine")], { forced: "shell" })).toBe(false);
  });

  test("--docker-image gives image-less jobs an image, so they run in Docker too", () => {
    const choices = chooseExecutors([job("a"), job("b", "alpine")], { defaultImage: "busybox", engine });
    expect([...choices.values()].map((c) => c.executor)).toEqual(["docker", "docker"]);
  });

  test("one line, grouped by choice, three names a group", () => {
    const jobs = [job("a", "x"), job("b", "x"), job("c", "x"), job("d", "x"), job("lint")];
    expect(describeChoices(jobs, chooseExecutors(jobs, { engine }))).toBe(
      "Executors: docker for a, b, c and 1 more (an image, and the Docker engine at unix:///var/run/docker.sock answers); shell for lint (no image)",
    );
    expect(describeChoices(jobs, chooseExecutors(jobs, { forced: "ssh" }))).toBe("Executors: ssh for all 5 jobs (--executor ssh)");
    expect(describeChoices([job("lint")], chooseExecutors([job("lint")], {}))).toBe("Executor: shell for lint (no image)");
  });

  test("no engine: the image's job runs on the shell, and the line says where the engine was asked and what failed", () => {
    const jobs = [job("build", "golang")];
    const line = describeChoices(jobs, chooseExecutors(jobs, { engine: { where: "tcp://10.0.0.9:2375", answers: false, failure: "ECONNREFUSED" } }));
    expect(line).toBe("Executor: shell for build (an image, but no Docker engine answers at tcp://10.0.0.9:2375: ECONNREFUSED; --executor docker insists)");
  });
});
