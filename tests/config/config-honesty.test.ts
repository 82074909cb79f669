import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/config-file.ts";
import { allowedServices, dockerSettings, jobImage } from "../../src/executors/docker/docker-options.ts";

const runner = (extra: string, executor = "shell") => `[[runners]]\nurl = "http://x"\ntoken = "t"\nexecutor = "${executor}"\n${extra}`;

describe("config.toml honesty", () => {
  test("a key that loads but has no effect is warned about with its path and why; register's defaults say nothing", () => {
    const { warnings } = parseConfig(
      'sentry_dsn = "https://key@sentry.example/1"\nconnection_max_age = "15m0s"\n' +
        runner('clone_url = "https://mirror.example"\n[runners.custom_build_dir]\n  enabled = false\n[runners.cache]\n  Type = "gcs"\n[runners.docker]\n  image = "alpine"\n  gpus = "all"\n  network_mtu = 0\n', "docker"),
      "c.toml",
    );
    expect(warnings).toEqual([
      "c.toml: sentry_dsn: has no effect in this runner: errors are not sent to Sentry",
      "c.toml: runners[0].clone_url: has no effect in this runner: git fetches from the repository URL GitLab sends",
      "c.toml: runners[0].docker.gpus: has no effect in this runner: no GPU is handed to the containers",
      "c.toml: runners[0].cache.Type = \"gcs\": has no effect in this runner: only the s3 cache is shared; caches stay in cache_dir",
    ]);
  });

  test("an s3 cache without its bucket or keys, or with IAM, refuses to start (a fleet would silently stay cold)", () => {
    const s3 = (keys: string) => runner(`[runners.cache]\n  Type = "s3"\n  [runners.cache.s3]\n${keys}`);
    expect(() => parseConfig(s3('    AccessKey = "a"\n    SecretKey = "s"\n'), "c.toml")).toThrow("c.toml: runners[0].cache.s3.BucketName: an s3 cache needs a bucket");
    expect(() => parseConfig(s3('    BucketName = "b"\n'), "c.toml")).toThrow("AccessKey and SecretKey are needed");
    expect(() => parseConfig(s3('    BucketName = "b"\n    AuthenticationType = "iam"\n'), "c.toml")).toThrow(/AuthenticationType = "iam": this runner signs with access keys only/);
    expect(() => parseConfig(s3('    BucketName = "b"\n    AccessKey = "a"\n    SecretKey = "s"\n'), "c.toml")).not.toThrow();
    // What register writes for a cache left alone says nothing.
    expect(parseConfig(runner("[runners.cache]\n  MaxUploadedArchiveSize = 0\n  [runners.cache.s3]\n  [runners.cache.gcs]\n"), "c.toml").warnings).toEqual([]);
  });

  test("clean_git_config = true refuses to start where a build directory outlives the job, and only there", () => {
    expect(() => parseConfig(runner("clean_git_config = true\n"), "c.toml")).toThrow(
      /^c\.toml: runners\[0\]\.clean_git_config = true: this runner does not clean the git configuration/,
    );
    expect(() => parseConfig(runner("clean_git_config = true\n", "docker"), "c.toml")).not.toThrow();
    expect(() => parseConfig(runner("clean_git_config = false\n"), "c.toml")).not.toThrow();
  });
});

// executors/docker/docker.go: the isolation keys reach the containers instead of being dropped.
describe("[runners.docker] isolation keys", () => {
  test("capabilities, security options, user namespace, limits and DNS become the containers' HostConfig", () => {
    const settings = dockerSettings({
      cap_drop: ["ALL"], cap_add: ["CHOWN"], security_opt: ["no-new-privileges"], userns_mode: "host", cgroup_parent: "/ci",
      memory_swap: "1g", memory_reservation: "256m", cpuset_cpus: "0", cpu_shares: 512, devices: ["/dev/fuse"],
      dns: ["192.0.2.53"], pid_mode: "host", sysctls: { "net.ipv4.ip_forward": "1" },
      services_security_opt: ["seccomp=unconfined"], service_memory: "128m", services_tmpfs: { "/var/lib/mysql": "rw" },
    });
    expect(settings.hostConfig).toMatchObject({
      CapDrop: ["ALL"], CapAdd: ["CHOWN"], SecurityOpt: ["no-new-privileges"], UsernsMode: "host", CgroupParent: "/ci",
      MemorySwap: 1024 ** 3, MemoryReservation: 256 * 1024 ** 2, CpusetCpus: "0", CpuShares: 512,
      Devices: [{ PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" }],
      Dns: ["192.0.2.53"], PidMode: "host", Sysctls: { "net.ipv4.ip_forward": "1" },
    });
    expect(settings.servicesHostConfig).toMatchObject({
      CapDrop: ["ALL"], SecurityOpt: ["seccomp=unconfined"], Memory: 128 * 1024 ** 2, Tmpfs: { "/var/lib/mysql": "rw" },
    });
  });

  test("allowed_users, allowed_privileged_images and services_limit are enforced", () => {
    expect(() => jobImage({ allowed_users: ["1000"] }, { name: "alpine", executor_opts: { docker: { user: "root" } } } as never)).toThrow(
      'The "root" user is not present on list of allowed users',
    );
    expect(jobImage({ allowed_users: ["1000"] }, { name: "alpine", executor_opts: { docker: { user: "1000" } } } as never).user).toBe("1000");
    expect(dockerSettings({ privileged: true, allowed_privileged_images: ["docker:*-dind"] }, undefined, "alpine").privileged).toBe(false);
    expect(dockerSettings({ privileged: true, allowed_privileged_images: ["docker:*-dind"] }, undefined, "docker:27-dind").privileged).toBe(true);
    expect(() => allowedServices({ services_limit: 1 }, [{ name: "a" }, { name: "b" }] as never)).toThrow("services_limit of [runners.docker] allows 1");
  });
});
