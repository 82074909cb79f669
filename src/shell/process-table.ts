import { readdirSync } from "node:fs";
import { readBytesOrUndefined } from "../file-probes.ts";

/** What the runner needs to know of the machine's processes to stop a job's, on Linux and macOS. */
export interface ProcessTable {
  /** The pids of process group `pgid` that are still running (zombies awaiting a reaper do not count). */
  groupMembers(pgid: number): number[];
  /** The pids whose environment holds the entry `KEY=value` exactly. */
  withEnvironment(entry: string): number[];
  /** The process group of `pid`; undefined when it is gone. */
  groupOf(pid: number): number | undefined;
}

/** The process table of this machine: `/proc` on Linux, `ps` elsewhere (macOS has no `/proc`). */
export function processTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  return platform === "linux" ? procTable : psTable;
}

const procTable: ProcessTable = {
  groupMembers(pgid) {
    const members: number[] = [];
    for (const pid of numericEntries("/proc")) {
      const stat = readBytesOrUndefined(`/proc/${pid}/stat`)?.toString("latin1");
      const parsed = stat === undefined ? undefined : parseProcStat(stat);
      if (parsed?.pgid === pgid && !parsed.zombie) members.push(pid);
    }
    return members;
  },
  withEnvironment(entry) {
    const needle = Buffer.from(`\0${entry}\0`);
    const found: number[] = [];
    for (const pid of numericEntries("/proc")) {
      const environ = readBytesOrUndefined(`/proc/${pid}/environ`);
      if (environ && Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]).includes(needle)) found.push(pid);
    }
    return found;
  },
  groupOf(pid) {
    const stat = readBytesOrUndefined(`/proc/${pid}/stat`)?.toString("latin1");
    return stat === undefined ? undefined : parseProcStat(stat).pgid;
  },
};

const psTable: ProcessTable = {
  groupMembers(pgid) {
    return parsePsGroups(ps(["-A", "-o", "pid=,pgid=,stat="])).filter((p) => p.pgid === pgid && !p.zombie).map((p) => p.pid);
  },
  withEnvironment(entry) {
    // BSD ps: `-E` appends each process's environment to its command line.
    return parsePsEnvironment(ps(["-A", "-E", "-ww", "-o", "pid=,command="]), entry);
  },
  groupOf(pid) {
    return parsePsGroups(ps(["-o", "pid=,pgid=,stat=", "-p", String(pid)]))[0]?.pgid;
  },
};

/** `/proc/<pid>/stat`: the fields after the parenthesised command are state, ppid, pgrp, … */
export function parseProcStat(stat: string): { pgid: number; zombie: boolean } {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { pgid: Number(fields[2]), zombie: fields[0] === "Z" || fields[0] === "X" };
}

/** `ps -A -o pid=,pgid=,stat=` output: one `pid pgid state` line per process. */
export function parsePsGroups(output: string): { pid: number; pgid: number; zombie: boolean }[] {
  return output.split("\n").flatMap((line) => {
    const [pid, pgid, stat] = line.trim().split(/\s+/);
    if (!pid || !pgid || !/^\d+$/.test(pid)) return [];
    return [{ pid: Number(pid), pgid: Number(pgid), zombie: (stat ?? "").startsWith("Z") }];
  });
}

/** `ps -A -E -ww -o pid=,command=` output: the pids whose line carries `entry` as a word of its own. */
export function parsePsEnvironment(output: string, entry: string): number[] {
  return output.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s(.*)$/.exec(line);
    if (!match) return [];
    return match[2]!.split(/\s+/).includes(entry) ? [Number(match[1])] : [];
  });
}

function ps(args: string[]): string {
  const result = Bun.spawnSync(["ps", ...args], { stdout: "pipe", stderr: "ignore", env: { PATH: "/bin:/usr/bin" } });
  return result.stdout.toString();
}

function numericEntries(dir: string): number[] {
  return readdirSync(dir).filter((e) => /^\d+$/.test(e)).map(Number);
}

