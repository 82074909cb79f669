import type { z } from "zod";
import type { dockerSchema } from "../../config/config-schema.ts";
import { parseBytes } from "./container-parts.ts";

type DockerConfig = z.infer<typeof dockerSchema>;

/** The Engine API's HostConfig fields that `[runners.docker]` isolation and limit keys set. */
export interface IsolationHostConfig {
  readonly CapAdd?: readonly string[];
  readonly CapDrop?: readonly string[];
  readonly SecurityOpt?: readonly string[];
  readonly UsernsMode?: string;
  readonly CgroupParent?: string;
  readonly Memory?: number;
  readonly MemorySwap?: number;
  readonly MemoryReservation?: number;
  readonly NanoCpus?: number;
  readonly CpusetCpus?: string;
  readonly CpusetMems?: string;
  readonly CpuShares?: number;
  readonly OomKillDisable?: boolean;
  readonly OomScoreAdj?: number;
  readonly Devices?: readonly { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  readonly DeviceCgroupRules?: readonly string[];
  readonly GroupAdd?: readonly string[];
  readonly Dns?: readonly string[];
  readonly DnsSearch?: readonly string[];
  readonly PidMode?: string;
  readonly IpcMode?: string;
  readonly Sysctls?: Readonly<Record<string, string>>;
  readonly Runtime?: string;
  readonly Tmpfs?: Readonly<Record<string, string>>;
}

/**
 * What the job's own containers (build and helper) get of `[runners.docker]`, as GitLab Runner's
 * docker executor sets them (executors/docker/docker.go createHostConfig): capabilities, security
 * options, user namespace, cgroup parent and resource limits, devices, groups, DNS, pid and IPC
 * modes, sysctls and the runtime. `memory`, `cpus` and the rest the executor sets itself.
 */
export function jobHostConfig(config: DockerConfig): IsolationHostConfig {
  return {
    ...shared(config),
    ...(config.security_opt ? { SecurityOpt: config.security_opt } : {}),
    ...(config.cgroup_parent ? { CgroupParent: config.cgroup_parent } : {}),
    ...(config.memory_swap ? { MemorySwap: parseBytes(config.memory_swap) } : {}),
    ...(config.memory_reservation ? { MemoryReservation: parseBytes(config.memory_reservation) } : {}),
    ...(config.cpuset_cpus ? { CpusetCpus: config.cpuset_cpus } : {}),
    ...(config.cpuset_mems ? { CpusetMems: config.cpuset_mems } : {}),
    ...(config.cpu_shares ? { CpuShares: config.cpu_shares } : {}),
    ...(config.oom_kill_disable !== undefined ? { OomKillDisable: config.oom_kill_disable } : {}),
    ...(config.oom_score_adjust !== undefined ? { OomScoreAdj: config.oom_score_adjust } : {}),
    ...(config.devices ? { Devices: config.devices.map(device) } : {}),
    ...(config.device_cgroup_rules ? { DeviceCgroupRules: config.device_cgroup_rules } : {}),
    ...(config.group_add ? { GroupAdd: config.group_add } : {}),
    ...(config.pid_mode ? { PidMode: config.pid_mode } : {}),
    ...(config.ipcmode ? { IpcMode: config.ipcmode } : {}),
    ...(config.sysctls ? { Sysctls: config.sysctls } : {}),
    ...(config.runtime ? { Runtime: config.runtime } : {}),
  };
}

/** What service containers get: the shared keys and the `service_*` / `services_*` ones. */
export function serviceHostConfig(config: DockerConfig): IsolationHostConfig {
  return {
    ...shared(config),
    ...(config.services_security_opt ? { SecurityOpt: config.services_security_opt } : {}),
    ...(config.service_cgroup_parent ? { CgroupParent: config.service_cgroup_parent } : {}),
    ...(config.service_memory ? { Memory: parseBytes(config.service_memory) } : {}),
    ...(config.service_memory_swap ? { MemorySwap: parseBytes(config.service_memory_swap) } : {}),
    ...(config.service_memory_reservation ? { MemoryReservation: parseBytes(config.service_memory_reservation) } : {}),
    ...(config.service_cpus ? { NanoCpus: Math.round(Number(config.service_cpus) * 1e9) } : {}),
    ...(config.service_cpuset_cpus ? { CpusetCpus: config.service_cpuset_cpus } : {}),
    ...(config.service_cpu_shares ? { CpuShares: config.service_cpu_shares } : {}),
    ...(config.services_tmpfs ? { Tmpfs: config.services_tmpfs } : {}),
    ...(config.runtime ? { Runtime: config.runtime } : {}),
  };
}

function shared(config: DockerConfig): IsolationHostConfig {
  return {
    ...(config.cap_add ? { CapAdd: config.cap_add } : {}),
    ...(config.cap_drop ? { CapDrop: config.cap_drop } : {}),
    ...(config.userns_mode ? { UsernsMode: config.userns_mode } : {}),
    ...(config.dns ? { Dns: config.dns } : {}),
    ...(config.dns_search ? { DnsSearch: config.dns_search } : {}),
  };
}

/** `devices` entries as Docker's `--device`: `/dev/kvm`, `/dev/sda:/dev/xvda`, `/dev/sda:/dev/xvda:rwm`. */
function device(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const [host = spec, container = host, permissions = "rwm"] = spec.split(":");
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}
