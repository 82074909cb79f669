/**
 * `bun run image [BASE]`: builds the Dockerfile through the Engine API (no docker CLI) as
 * `runner-helper:<version>` and `runner:<version>`, from BASE (default: the `BASE` environment
 * variable, else `debian:bookworm-slim`). Needs `dist/runner` (`bun run build`) and an engine on
 * DOCKER_HOST or /var/run/docker.sock.
 */
import pkg from "../package.json" with { type: "json" };

const base = process.argv[2] ?? process.env.BASE ?? "debian:bookworm-slim";
const socket = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice(7) : "/var/run/docker.sock";
const tags = [`runner-helper:${pkg.version}`, `runner:${pkg.version}`];

const context = Bun.spawnSync(["tar", "-c", "Dockerfile", "dist/runner"], { cwd: `${import.meta.dir}/..`, stdout: "pipe" });
if (context.exitCode !== 0) {
  console.error(`the build context could not be made: ${context.stderr}`);
  process.exit(1);
}
const query = new URLSearchParams({ t: tags[0]!, buildargs: JSON.stringify({ BASE: base }), rm: "1", forcerm: "1" });
const response = await fetch(`http://localhost/build?${query}`, {
  method: "POST", body: context.stdout, headers: { "content-type": "application/x-tar" }, unix: socket,
} as RequestInit);
const lines = (await response.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { stream?: string; error?: string });
const failed = lines.find((l) => l.error);
if (!response.ok || failed) {
  console.error(`the image did not build: ${failed?.error ?? response.status}`);
  process.exit(1);
}
for (const tag of tags.slice(1)) {
  const [repo, version] = tag.split(":");
  await fetch(`http://localhost/images/${encodeURIComponent(tags[0]!)}/tag?repo=${repo}&tag=${version}`, { method: "POST", unix: socket } as RequestInit);
}
console.log(`built ${tags.join(", ")} from ${base}`);
