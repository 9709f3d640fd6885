# syntax=docker/dockerfile:1
#
# wmscope agent image: eBPF network observability for Workerman, exported through OpenTelemetry.
#
#   docker build -t wmscope --build-arg WMSCOPE_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#
# Run it on the host it watches. Loading BPF programs needs root and capabilities, so the
# container runs as root. It needs the host's PID namespace (Workerman discovery in /proc) and
# the host's cgroup tree (sock_ops attaches at its root, where it sees every TCP socket);
# --uts=host makes the host's name, not the container's, the telemetry's host.name:
#
#   docker run -d --name wmscope --privileged --pid=host --cgroupns=host --uts=host \
#     -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     -e OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317 wmscope
#
# or, instead of --privileged, the capabilities the agent uses (runtimes' default seccomp
# profiles refuse bpf() without SYS_ADMIN, hence seccomp=unconfined; alternatively keep the
# default profile and add SYS_ADMIN):
#
#   docker run -d --name wmscope --pid=host --cgroupns=host --uts=host \
#     --cap-drop=ALL --cap-add=BPF --cap-add=PERFMON --cap-add=NET_ADMIN --cap-add=SYS_PTRACE \
#     --security-opt seccomp=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     -e OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317 wmscope
#
# The cgroup mount matters on hosts with hybrid cgroups (v2 at /sys/fs/cgroup/unified): there
# the runtime's own /sys/fs/cgroup hides the v2 hierarchy, and -v /sys:/sys does not help.
# Arguments after the image name replace `run` (see `docker run --rm wmscope run --help`):
#   ... wmscope run --port 8080 --format json      (print each closed connection as JSON)
# Every OTEL_* (OpenTelemetry SDK) and WMSCOPE_* variable passes through to the agent;
# WMSCOPE_JAVA_OPTS adds JVM options. README.md, section "Deployment", has the details.

ARG MAVEN_VERSION=3.9.16
ARG MAVEN_SHA512=831a8591fe20c8243b1dbe7d71e3244f31d1665b0804b2e825e38cbbe5ce0cafb8338851f90780735568773e0a6cd07bbec107cda0b896b008b861075358b6f6

# ---- build: JDK 25, Maven, clang and libbpf-dev (the BPF object is compiled by the build) ----
FROM eclipse-temurin:25-jdk AS build
ARG MAVEN_VERSION
ARG MAVEN_SHA512
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang libbpf-dev ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
# Maven from Maven Central, checked against its published SHA-512 (distribution packages of
# Maven would pull in a second, older JDK).
RUN curl -fsSL -o /tmp/maven.tar.gz \
      "https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/${MAVEN_VERSION}/apache-maven-${MAVEN_VERSION}-bin.tar.gz" \
 && echo "${MAVEN_SHA512}  /tmp/maven.tar.gz" | sha512sum -c - \
 && mkdir -p /opt/maven && tar -xzf /tmp/maven.tar.gz -C /opt/maven --strip-components=1 \
 && ln -s /opt/maven/bin/mvn /usr/local/bin/mvn && rm /tmp/maven.tar.gz
WORKDIR /src
COPY . .
# The build context has no .git (see .dockerignore): the commit comes in as a build argument.
ARG WMSCOPE_GIT_COMMIT=unknown
RUN --mount=type=cache,target=/root/.m2 \
    WMSCOPE_GIT_COMMIT="${WMSCOPE_GIT_COMMIT}" mvn -B -ntp -DskipTests package \
 && mkdir -p /dist \
 && tar -xzf agent/target/wmscope-*.tar.gz -C /dist --strip-components=1

# ---- runtime: a Java 25 runtime, libbpf1 and the agent; no compiler, no bpftool ----
FROM eclipse-temurin:25-jre
# Labels: pass these when building a release (scripts/container-smoke.sh passes the first two).
ARG WMSCOPE_GIT_COMMIT=unknown
ARG WMSCOPE_VERSION=0.1.0-SNAPSHOT
ARG WMSCOPE_CREATED=""
ARG WMSCOPE_SOURCE=""
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /dist /opt/wmscope
# The launcher sizes the JVM (96 MiB serial-GC heap, exit on OutOfMemoryError); WMSCOPE_JAVA_OPTS
# overrides it.
ENV PATH=/opt/wmscope/bin:$PATH
LABEL org.opencontainers.image.title="wmscope" \
      org.opencontainers.image.description="eBPF network observability for Workerman apps, exported through OpenTelemetry" \
      org.opencontainers.image.version="${WMSCOPE_VERSION}" \
      org.opencontainers.image.revision="${WMSCOPE_GIT_COMMIT}" \
      org.opencontainers.image.created="${WMSCOPE_CREATED}" \
      org.opencontainers.image.source="${WMSCOPE_SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/eclipse-temurin:25-jre"
# /healthz on the agent's local HTTP server (127.0.0.1:9464 unless WMSCOPE_HTTP_ADDRESS says
# otherwise); the probe is a bash script, so the API can stay bound to loopback.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/opt/wmscope/bin/wmscope-healthz"]
# SIGTERM stops the agent cleanly (programs detached, exporters flushed, exit 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/wmscope/bin/wmscope"]
CMD ["run"]
