import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import yazl from "yazl";
import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { localFiles } from "../../src/executors/local-files.ts";
import { extractZip } from "../../src/steps/archive/zip.ts";
import { FakeGitLab, type FakeJob } from "../fake-gitlab/fake-gitlab.ts";
import { BUSYBOX, dockerAvailable, ENGINE_SETTINGS, startDocker } from "../helpers/docker.ts";
import { runNextJob, runnerConfig } from "../helpers/next-job.ts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd.ts";

/**
 * A job controls its build directory, so it can plant symbolic links there and list them in
 * `artifacts:paths` or `cache:paths`, or hand a later job a crafted archive. Whatever it does, the
 * runner never reads a file outside the build directory and never makes a directory outside it.
 * A link is archived as a link, as GitLab Runner's archiver does (commands/helpers/file_archiver.go
 * walks with `filepath.Walk`, which does not follow links). Each case runs on every executor.
 */

const SECRET = "host-secret-4f9c1e";
let outside: string;
let fake: FakeGitLab;
let sshd: TestSshd | undefined;
/** A host whose sshd offers no SFTP: files move through the session (cat, find, stat). */
let bareSshd: TestSshd | undefined;
const tried: { executor: string; attempt: string; refused: boolean }[] = [];

beforeAll(async () => {
  outside = mkdtempSync(join(tmpdir(), "runner-outside-"));
  writeFileSync(join(outside, "secret.txt"), `${SECRET}\n`);
  fake = await new FakeGitLab().start();
  if (dockerAvailable()) await startDocker();
  if (sshdAvailable()) sshd = await startSshd();
  if (sshdAvailable()) bareSshd = await startSshd({ sftp: false });
}, 300_000);
afterAll(async () => {
  await fake.stop();
  await sshd?.stop();
  await bareSshd?.stop();
  const refused = tried.filter((t) => t.refused).length;
  console.log(`path-escape attempts refused: ${refused} of ${tried.length}`);
});

function executors(): { name: string; runner: () => RunnerConfig }[] {
  const root = mkdtempSync(join(tmpdir(), "runner-escape-"));
  const list: { name: string; runner: () => RunnerConfig }[] = [{
    name: "shell",
    runner: () => runnerConfig(fake, { builds_dir: join(root, "shell-builds"), cache_dir: join(root, "shell-cache") }),
  }];
  if (dockerAvailable()) {
    list.push({
      name: "docker",
      runner: () => runnerConfig(fake, {
        executor: "docker", cache_dir: join(root, "docker-cache"),
        docker: { image: BUSYBOX, helper_image: BUSYBOX, pull_policy: "if-not-present", disable_cache: true, ...(ENGINE_SETTINGS.ulimits ? { ulimit: ENGINE_SETTINGS.ulimits } : {}) },
      } as Partial<RunnerConfig>),
    });
  }
  if (sshdAvailable()) {
    const overSsh = (name: string, dir: string, server: () => TestSshd) => ({
      name,
      runner: () => runnerConfig(fake, {
        executor: "ssh", builds_dir: join(root, `${dir}-builds`), cache_dir: join(root, `${dir}-cache`),
        ssh: { host: "127.0.0.1", port: String(server().port), user: "root", identity_file: server().clientKey, known_hosts_file: server().knownHosts },
      } as Partial<RunnerConfig>),
    });
    list.push(overSsh("ssh", "ssh", () => sshd!), overSsh("ssh without SFTP", "bare-ssh", () => bareSshd!));
  }
  return list;
}

/** Every file inside an archive GitLab received, extracted into a fresh directory (links as links). */
async function unpacked(job: FakeJob): Promise<string[]> {
  const out: string[] = [];
  for (const artifact of job.artifacts) {
    const dir = mkdtempSync(join(tmpdir(), "runner-unpacked-"));
    writeFileSync(join(dir, "a.zip"), artifact.data);
    await extractZip(join(dir, "a.zip"), localFiles, join(dir, "out"));
    for (const entry of await localFiles.list(join(dir, "out"))) {
      out.push(entry.type === "file" ? `${entry.path}=${readFileSync(join(dir, "out", entry.path), "utf8")}` : `${entry.path}(${entry.type})`);
    }
  }
  return out;
}

function gunzipped(data: Buffer): string {
  try {
    return gunzipSync(data).toString();
  } catch {
    return "";
  }
}

/** A zip GitLab would hand a later job: entries in order, a link where `link` is given. */
function craftedZip(entries: { name: string; link?: string; data?: string }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith("/")) zip.addEmptyDirectory(e.name);
    else if (e.link !== undefined) zip.addBuffer(Buffer.from(e.link), e.name, { mode: 0o120777, compress: false });
    else zip.addBuffer(Buffer.from(e.data ?? "x"), e.name, { mode: 0o100644 });
  }
  zip.end();
  return new Response(zip.outputStream as unknown as ReadableStream).arrayBuffer().then((b) => Buffer.from(b));
}

const archive = (paths: string[], format: "zip" | "gzip" | "raw" = "zip", type = "archive") =>
  ({ name: "out", paths, when: "always", artifact_type: type, artifact_format: format }) as never;

for (const executor of executors()) {
  describe(`no file outside the build directory leaves through artifacts or caches (${executor.name} executor)`, () => {
    const run = (script: string[], over: Parameters<FakeGitLab["enqueue"]>[1]) => {
      // Each job starts from an empty project directory.
      fake.enqueue(script, { ...over, variables: [{ key: "GIT_STRATEGY", value: "empty", public: true, masked: false }] });
      return runNextJob(fake, executor.runner());
    };

    test("a link to an outside directory, listed through (`hostdir/secret.txt`), uploads nothing of it", async () => {
      const job = await run([`ln -s ${outside} hostdir`], { artifacts: [archive(["hostdir/secret.txt"])] });
      const files = await unpacked(job);
      const refused = !files.some((f) => f.includes(SECRET));
      tried.push({ executor: executor.name, attempt: "artifact path through a link", refused });
      expect(refused, files.join("\n")).toBe(true);
      expect(job.trace.toString()).toContain("hostdir/secret.txt: no matching files");
    }, 60_000);

    test("a link to an outside directory is archived as the link itself, never its contents", async () => {
      const job = await run([`ln -s ${outside} hostdir`, `ln -s ${outside}/secret.txt leak.txt`, "echo mine > own.txt"], {
        artifacts: [archive(["hostdir", "leak.txt", "own.txt"])],
      });
      const files = await unpacked(job);
      tried.push({ executor: executor.name, attempt: "links as artifact paths", refused: !files.some((f) => f.includes(SECRET)) });
      expect(files.sort()).toEqual(["hostdir(symlink)", "leak.txt(symlink)", "own.txt=mine\n"]);
    }, 60_000);

    test("a report (gzip) or raw artifact that is a link is not read through it", async () => {
      const job = await run([`ln -s ${outside}/secret.txt report.xml`], {
        artifacts: [archive(["report.xml"], "gzip", "junit"), archive(["report.xml"], "raw", "dotenv")],
      });
      const leaked = job.artifacts.some((a) => a.data.includes(SECRET) || gunzipped(a.data).includes(SECRET));
      tried.push({ executor: executor.name, attempt: "report through a link", refused: !leaked });
      expect(leaked).toBe(false);
      expect(job.trace.toString()).toContain("report.xml: is a symbolic link; it is not followed");
    }, 60_000);

    test("paths out of the project directory (`../`, absolute) are refused in GitLab Runner's words", async () => {
      const job = await run([], { artifacts: [archive([`${outside}/secret.txt`, "../../../../../../../../.." + `${outside}/secret.txt`])] });
      const files = await unpacked(job);
      tried.push({ executor: executor.name, attempt: "absolute and ../ paths", refused: files.length === 0 });
      expect(files).toEqual([]);
      expect(job.trace.toString()).toContain(`processPath: artifact path is not a subpath of project directory: ${outside}/secret.txt`);
    }, 60_000);

    test("a cache through a link saves nothing of the outside file", async () => {
      const job = await run([`ln -s ${outside} hostdir`], {
        cache: [{ key: `escape-${executor.name}`, paths: ["hostdir/secret.txt", "hostdir"], policy: "push", when: "on_success" }] as never,
      });
      expect(job.status, job.trace.toString()).toBe("success");
      const cacheDir = executor.runner().cache_dir!;
      const zip = join(cacheDir, `acme/widget/escape-${executor.name}/cache.zip`);
      expect(existsSync(zip), job.trace.toString()).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), "runner-cache-out-"));
      await extractZip(zip, localFiles, dir);
      const entries = await localFiles.list(dir);
      const refused = entries.every((e) => e.type !== "file" || !readFileSync(join(dir, e.path), "utf8").includes(SECRET));
      tried.push({ executor: executor.name, attempt: "cache through a link", refused });
      expect(entries.map((e) => `${e.path}(${e.type})`)).toEqual(["hostdir(symlink)"]);
    }, 60_000);

    test("a downloaded archive whose entries go through a link is refused before any directory is made outside", async () => {
      const target = mkdtempSync(join(tmpdir(), "runner-target-"));
      const producer = (await run(["true"], {})).payload.id;
      const crafted = await craftedZip([{ name: "link", link: target }, { name: "link/made/deep/file", data: "planted" }]);
      fake.jobs.get(producer)!.artifacts.push({ type: "archive", format: "zip", expireIn: null, filename: "a.zip", data: crafted });
      const job = await run(["echo should-not-run"], {
        dependencies: [{ id: producer, name: "build", token: `glcbt-64_jobToken${producer}`, artifacts_file: { filename: "a.zip", size: 1 } }],
      });
      const refused = readdirSync(target).length === 0;
      tried.push({ executor: executor.name, attempt: "crafted archive through a link", refused });
      expect(readdirSync(target)).toEqual([]);
      expect(job.status).toBe("failed");
      expect(job.trace.toString()).toContain("link/made/deep/file: a symbolic link in its path leaves the extraction directory; the archive is refused");
    }, 60_000);

    test("a symbolic link to a directory inside the project (`ln -s .. up`) is a link, not a loop", async () => {
      const job = await run(["mkdir -p out/sub", "echo a > out/sub/a", "ln -s .. out/sub/up", "ln -s sub out/again"], {
        artifacts: [archive(["out/"])],
      });
      expect(job.status, job.trace.toString()).toBe("success");
      expect((await unpacked(job)).sort()).toEqual(["out(directory)", "out/again(symlink)", "out/sub(directory)", "out/sub/a=a\n", "out/sub/up(symlink)"]);
      expect(job.trace.toString()).toContain("out/: found 5 matching artifact files and directories");
    }, 60_000);
  });
}

describe("extracting an archive (commands/helpers/archive: zip extractor)", () => {
  test("no entry, in any order, creates a directory or file outside the destination", async () => {
    const target = mkdtempSync(join(tmpdir(), "runner-target-"));
    const root = mkdtempSync(join(tmpdir(), "runner-dest-"));
    mkdirSync(join(root, "dest"));
    const cases: { name: string; link?: string; data?: string }[][] = [
      [{ name: "l", link: target }, { name: "l/x/y", data: "a" }],
      [{ name: "l", link: "../../../../../../../../" + target }, { name: "l/x", data: "a" }],
      [{ name: "a/", data: "" }, { name: "a/l", link: target }, { name: "a/l/x/", data: "" }],
      [{ name: "up", link: ".." }, { name: "up/escaped", data: "a" }],
      [{ name: "l", link: target }, { name: "l", data: "overwrite" }, { name: "l/x", data: "a" }],
    ];
    for (const entries of cases) {
      const zip = join(root, "c.zip");
      writeFileSync(zip, await craftedZip(entries));
      await extractZip(zip, localFiles, join(root, "dest")).catch(() => {});
    }
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(["c.zip", "dest"]);
  });

  test("a link that stays inside the destination may be gone through", async () => {
    const root = mkdtempSync(join(tmpdir(), "runner-dest-"));
    const zip = join(root, "c.zip");
    writeFileSync(zip, await craftedZip([{ name: "real/", data: "" }, { name: "alias", link: "real" }, { name: "alias/file", data: "kept" }]));
    await extractZip(zip, localFiles, join(root, "dest"));
    expect(readFileSync(join(root, "dest/real/file"), "utf8")).toBe("kept");
  });
});
