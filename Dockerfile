# A slim image around the self-contained binary. Build dist/ays first (`npm run build`), then:
#   docker build -t ays .
# The binary needs no runtime, node_modules or npm; the image adds only what actions
# commonly call through job.exec (a shell, CA certificates, ssh client, tini as PID 1).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates openssh-client tini \
 && rm -rf /var/lib/apt/lists/*
COPY dist/ays /usr/local/bin/ays
WORKDIR /repo
EXPOSE 5000
# tini forwards SIGTERM to ays, which stops the daemon cleanly (docs/daemon.md), and reaps the
# processes that actions start with job.exec.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/ays"]
CMD ["daemon", "--repo", "/repo", "--listen", "0.0.0.0:5000"]
