import type { Readable, Writable } from "node:stream";
import { nodeStream } from "../../node-stream.ts";
import { quotePosix as q } from "../../shell/quote.ts";
import { ListingError, OutsidePathError, type BuildFiles, type FileEntry } from "../build-files.ts";
import { CommandShell } from "./command-shell.ts";

export type { RemoteProcess, RunRemote } from "./remote-process.ts";
import type { RunRemote } from "./remote-process.ts";

/** What the host needs for files to move without SFTP. */
export const SHELL_FILE_TOOLS = ["cat", "find", "stat", "mkdir", "rm", "mv", "ln", "chmod", "chown", "touch", "readlink"] as const;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * A remote build directory through a host's own POSIX tools, one command per call on the session
 * (for hosts whose sshd offers no SFTP subsystem: hardened servers, Dropbear, busybox systems).
 * Contents stream through `cat` both ways; listings come from `find` and `stat -c` (GNU's and
 * busybox's), with seconds for times as SFTP gives them. The same refusals as elsewhere: a link is
 * never followed out of the root, a file is read only when its directory's real path is inside.
 */
export function shellFiles(run: RunRemote): BuildFiles & { close(): void } {
  // Small commands share one shell; contents each get a channel of their own (binary, streamed).
  const shell = new CommandShell(run);
  const output = (script: string) => shell.exec(script);
  const must = async (script: string, what: string) => {
    const r = await output(script);
    if (r.code !== 0) throw failure(`${what}: ${r.stderr.trim() || `exit code ${r.code}`}`);
    return r.stdout;
  };
  const files: BuildFiles & { close(): void } = {
    close: () => shell.close(),
    list: (dir) => listTree(output, dir),
    async stat(path) {
      const r = await output(`stat -c '%f %s %Y' -- ${q(path)}`);
      return r.code === 0 ? describe(r.stdout.trim()) : undefined;
    },
    readInside: (root, path) => readInside(run, root, path),
    write: (path, mode) => writeFile(run, path, mode),
    mkdir: async (path) => void (await must(`mkdir -p -- ${q(path)}`, `mkdir ${path}`)),
    readlink: async (path) => (await must(`readlink -- ${q(path)}`, `readlink ${path}`)).replace(/\n$/, ""),
    symlink: async (target, path) => void (await must(`ln -s -- ${q(target)} ${q(path)}`, `ln -s ${path}`)),
    remove: async (path) => void (await must(`rm -rf -- ${q(path)}`, `rm -rf ${path}`)),
    rename: async (from, to) => void (await must(`rm -rf -- ${q(to)} && mv -- ${q(from)} ${q(to)}`, `mv ${from}`)),
    async setModeAndTime(path, mode, mtimeMs) {
      // touch -t is POSIX (in UTC here); -h is not everywhere, and a link's own time matters to no one.
      const stamp = new Date(Math.floor(mtimeMs / 1000) * 1000).toISOString().replace(/[-:T]/g, "").replace(/(\d{12})(\d\d)\.\d+Z$/, "$1.$2");
      await must(`chmod ${mode.toString(8)} -- ${q(path)} && TZ=UTC0 touch -c -t ${stamp} -- ${q(path)}`, `chmod ${path}`);
    },
    setOwner: async (path, uid, gid) => void (await must(`chown ${uid}:${gid} -- ${q(path)}`, `chown ${path}`)),
    async realpath(path) {
      const script = `if [ -d ${q(path)} ]; then cd -P -- ${q(path)} && pwd -P; else d=$(cd -P -- "$(dirname -- ${q(path)})" && pwd -P) && printf '%s/%s\\n' "\${d%/}" "$(basename -- ${q(path)})"; fi`;
      return (await must(script, `realpath ${path}`)).replace(/\n$/, "");
    },
  };
  return files;
}

/** Every entry below `dir`, sorted; names with a line break cannot be listed this way and are refused. */
async function listTree(output: (s: string) => Promise<{ stdout: string; stderr: string; code: number }>, dir: string): Promise<FileEntry[]> {
  const d = q(dir);
  const r = await output(
    `[ -d ${d} ] || exit 0; cd -- ${d} || exit 2; ` +
    `if [ -n "$(find . -mindepth 1 -name '*\n*' | head -n 1)" ]; then echo "a name holds a line break" >&2; exit 3; fi; ` +
    `find . -mindepth 1 -exec stat -c '%f %s %Y %n' {} +`,
  );
  if (r.code !== 0) throw new ListingError(`cannot list ${dir}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  const out: FileEntry[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^([0-9a-f]+) (\d+) (\d+) \.\/(.*)$/.exec(line);
    if (m) out.push({ path: m[4]!, ...describe(`${m[1]} ${m[2]} ${m[3]}`) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * `cat` of a regular file whose directory's real path is inside `root`'s; the script says `K`
 * before the contents, or exits 3 (outside), 4 (a link), 5 (not a regular file).
 */
async function readInside(run: RunRemote, root: string, path: string): Promise<Readable> {
  const script = [
    `r=$(cd -P -- ${q(root)} && pwd -P) || exit 6`,
    `p=$(cd -P -- "$(dirname -- ${q(path)})" && pwd -P) || exit 6`,
    `case "$p/" in "\${r%/}"/*) ;; *) exit 3;; esac`,
    `f="$p/$(basename -- ${q(path)})"`,
    `[ -L "$f" ] && exit 4`,
    `[ -f "$f" ] || exit 5`,
    `printf K && exec cat -- "$f"`,
  ].join("\n");
  const p = await run(script);
  p.stdin.end();
  const first = await firstByte(p.stdout);
  if (first.byte !== "K") {
    const [stderr, code] = await Promise.all([text(p.stderr), p.exit]);
    if (code === 3) throw new OutsidePathError(`${path}: a symbolic link on its way leaves ${root}`);
    if (code === 4) throw new OutsidePathError(`${path}: is a symbolic link; it is not followed`);
    if (code === 5) throw new OutsidePathError(`${path}: not a regular file`);
    throw failure(`cannot read ${path}: ${stderr.trim() || `exit code ${code}`}`);
  }
  const contents = new (nodeStream().PassThrough)();
  if (first.rest.length > 0) contents.write(first.rest);
  p.stdout.pipe(contents, { end: false });
  p.stderr.resume();
  void Promise.all([new Promise((done) => p.stdout.once("end", done)), p.exit]).then(([, code]) => {
    if (code === 0) contents.end();
    else contents.destroy(failure(`reading ${path} ended with exit code ${code}`));
  });
  return contents;
}

/** `cat > file` with the file made `mode` (through umask, then chmod); done when the host says so. */
function writeFile(run: RunRemote, path: string, mode: number): Writable {
  const started = run(`umask 077 && cat > ${q(path)} && chmod ${mode.toString(8)} -- ${q(path)}`);
  started.catch(() => {});
  return new (nodeStream().Writable)({
    write(chunk: Buffer, _encoding, done) {
      started.then((p) => (p.stdin.write(chunk) ? done() : p.stdin.once("drain", () => done())), done);
    },
    final(done) {
      started.then(async (p) => {
        p.stdin.end();
        const [stderr, code] = await Promise.all([text(p.stderr), p.exit, text(p.stdout)]);
        if (code === 0) return done();
        const error = failure(`cannot write ${path}: ${stderr.trim() || `exit code ${code}`}`);
        if (/No such file or directory/.test(stderr)) (error as NodeJS.ErrnoException).code = "ENOENT";
        done(error);
      }, done);
    },
  });
}

function describe(line: string): Omit<FileEntry, "path"> {
  const [rawMode = "0", size = "0", mtime = "0"] = line.split(" ");
  const mode = Number.parseInt(rawMode, 16);
  const format = mode & S_IFMT;
  const type = format === S_IFDIR ? "directory" : format === S_IFLNK ? "symlink" : "file";
  return { type, size: Number(size), mtimeMs: Number(mtime) * 1000, mode: mode & 0o7777 };
}

function failure(message: string): Error {
  const error = new Error(message);
  if (/No such file or directory/.test(message)) (error as NodeJS.ErrnoException).code = "ENOENT";
  return error;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function firstByte(stream: Readable): Promise<{ byte: string | undefined; rest: Buffer }> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      stream.off("data", onData).off("end", onEnd);
      stream.pause();
      resolve({ byte: chunk.subarray(0, 1).toString(), rest: chunk.subarray(1) });
    };
    const onEnd = () => resolve({ byte: undefined, rest: Buffer.alloc(0) });
    stream.on("data", onData).once("end", onEnd);
  });
}
