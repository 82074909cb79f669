import { join, resolve } from "node:path";
import type { RunnerConfig } from "../config/config-schema.ts";
import type { Executor } from "../executors/executor.ts";
import { createShellExecutor } from "../executors/shell/shell-executor.ts";
import { DockerApi } from "../executors/docker/docker-api.ts";
import { createDockerExecutor } from "../executors/docker/docker-executor.ts";
import { allowedServices, dockerSettings, helperImage, jobImage } from "../executors/docker/docker-options.ts";
import { serviceImages } from "../executors/docker/services.ts";
import { registryAuth } from "../executors/docker/registry-auth.ts";
import { createSshExecutor } from "../executors/ssh/ssh-executor.ts";
import type { SshSettings } from "../executors/ssh/ssh-connection.ts";
import { projectPath, shortToken } from "../protocol/token.ts";
import type { JobResponse } from "../protocol/types.ts";
import { JobFailure } from "../protocol/job-failure.ts";
import { expandContainerNames } from "../job/container-names.ts";

/**
 * The executor `[[runners]] executor` names, for one job. A configuration it cannot work with gives
 * an executor that fails when prepared, so the job still ends with its failure in the trace.
 */
export function executorFor(runner: RunnerConfig, job: JobResponse, concurrentId: number, hostEnv: Record<string, string>): Executor {
  try {
    return chooseExecutor(runner, expandContainerNames(job), concurrentId, hostEnv);
  } catch (error) {
    return failingExecutor(runner.executor, error);
  }
}

function failingExecutor(name: string, error: unknown): Executor {
  const unprepared = () => {
    throw error;
  };
  return {
    name, shell: "bash", description: `Using ${name} executor...`, environment: "shared", local: false,
    describeExit: (code) => `exit code ${code}`,
    get directories() {
      return unprepared();
    },
    get files() {
      return unprepared();
    },
    prepare: async () => unprepared(),
    run: async () => unprepared(),
    cleanup: async () => {},
  };
}

function chooseExecutor(runner: RunnerConfig, job: JobResponse, concurrentId: number, hostEnv: Record<string, string>): Executor {
  const relative = join(shortToken(runner.token), String(concurrentId), projectPath(job.git_info.repo_url, job.job_info.project_id));
  switch (runner.executor) {
    case "shell": {
      const buildsDir = resolve(runner.builds_dir ?? "builds");
      const projectDir = join(buildsDir, relative);
      return createShellExecutor({
        shell: runner.shell === "sh" ? "sh" : "bash", hostEnv,
        directories: { buildsDir, projectDir, tmpDir: `${projectDir}.tmp` },
      });
    }
    case "ssh":
      return createSshExecutor({ settings: sshSettings(runner), projectPath: relative, ...(runner.builds_dir ? { buildsDir: runner.builds_dir } : {}) });
    case "docker": {
      const docker = runner.docker ?? {};
      const image = jobImage(docker, job.image);
      const owner = { runner: shortToken(runner.token), job: `${shortToken(runner.token)}-${job.id}` };
      return createDockerExecutor({
        api: new DockerApi({
          ...(docker.host ? { host: docker.host } : {}), ...(docker.tls_cert_path ? { tlsCertPath: docker.tls_cert_path } : {}),
          ...(docker.tls_verify !== undefined ? { tlsVerify: docker.tls_verify } : {}),
        }),
        image, helperImage: helperImage(docker, image.pullPolicies), helperFallback: docker.helper_image === undefined,
        settings: dockerSettings(docker, { runner: owner.runner, path: projectPath(job.git_info.repo_url, job.job_info.project_id) }, image.name), owner, projectPath: projectPath(job.git_info.repo_url, job.job_info.project_id),
        services: serviceImages(allowedServices(docker, job.services), image.pullPolicies),
        registryAuth: (name) => registryAuth(name, {
          credentials: job.credentials,
          ...(dockerAuthConfig(job, hostEnv) ? { dockerAuthConfig: dockerAuthConfig(job, hostEnv)! } : {}),
        }),
        jobVariables: job.variables.filter((v) => !v.file).map((v) => `${v.key}=${v.value}`),
        ...(docker.wait_for_services_timeout !== undefined ? { waitForServicesSeconds: docker.wait_for_services_timeout } : {}),
      });
    }
    default:
      throw new JobFailure(`The ${runner.executor} executor is not available in this version (shell, ssh and docker are)`, {
        failureReason: "runner_system_failure", system: true,
      });
  }
}

/** `DOCKER_AUTH_CONFIG`: the job's variable, else the runner's environment. */
function dockerAuthConfig(job: JobResponse, hostEnv: Record<string, string>): string | undefined {
  return job.variables.find((v) => v.key === "DOCKER_AUTH_CONFIG")?.value ?? hostEnv.DOCKER_AUTH_CONFIG;
}

/** `[runners.ssh]` with GitLab Runner's defaults (port 22, known_hosts in ~/.ssh). */
export function sshSettings(runner: RunnerConfig): SshSettings {
  const ssh = runner.ssh;
  if (!ssh?.host) {
    throw new JobFailure("The ssh executor needs [runners.ssh] host", { failureReason: "runner_system_failure", system: true });
  }
  return {
    host: ssh.host, port: Number(ssh.port ?? 22), user: ssh.user ?? "root",
    disableStrictHostKeyChecking: ssh.disable_strict_host_key_checking ?? false,
    ...(ssh.password !== undefined ? { password: ssh.password } : {}),
    ...(ssh.identity_file ? { identityFile: ssh.identity_file } : {}),
    ...(ssh.known_hosts_file ? { knownHostsFile: ssh.known_hosts_file } : {}),
  };
}
