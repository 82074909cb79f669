# The runner's image: the single binary, git, git-lfs where the base offers it, and CA certificates.
# It is the Docker executor's default helper image (tag runner-helper:<version>) and can run the
# runner itself as a container next to the host's Docker socket.
#
#   bun run image                                   # builds it through the Engine API (BASE below)
#   docker build --build-arg BASE=debian:bookworm-slim -t runner-helper:0.1.0 .   # on a connected machine
#
# BASE must be Debian-like with glibc (the binary is linked against it). Offline, use a base that
# already has git and CA certificates (e.g. one imported from debootstrap); nothing is installed then.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN if ! command -v git >/dev/null 2>&1; then \
      apt-get update \
      && apt-get install -y --no-install-recommends git ca-certificates \
      && (apt-get install -y --no-install-recommends git-lfs || true) \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY dist/runner /usr/local/bin/runner
ENTRYPOINT ["/usr/local/bin/runner"]
CMD ["run"]
