package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile's shape; scripts/container-smoke.sh builds and runs it for real (CI).
 */
class DockerfileTest {
  private final String dockerfile = Repo.read("Dockerfile");
  private final List<String> lines = dockerfile.lines().map(String::strip).toList();

  private String runtimeStage() {
    return dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
  }

  @Test
  void buildsWithAJdkAndRunsOnAJreWithLibbpfOnly() {
    assertThat(lines.stream().filter(l -> l.startsWith("FROM ")))
        .containsExactly("FROM eclipse-temurin:25-jdk AS build", "FROM eclipse-temurin:25-jre");
    String runtime = runtimeStage();
    assertThat(runtime).contains("apt-get install -y --no-install-recommends libbpf1")
        .doesNotContain("clang").doesNotContain("bpftool").doesNotContain("libbpf-dev").doesNotContain("mvn ");
    assertThat(runtime).contains("COPY --from=build /dist /opt/wmscope");
  }

  @Test
  void hasHealthcheckEntrypointAndLabels() {
    String runtime = runtimeStage();
    assertThat(runtime).contains("HEALTHCHECK").contains("/opt/wmscope/bin/wmscope-healthz");
    assertThat(runtime).contains("ENTRYPOINT [\"/opt/wmscope/bin/wmscope\"]").contains("CMD [\"run\"]");
    assertThat(runtime).contains("STOPSIGNAL SIGTERM");
    for (String label : List.of("title", "description", "version", "revision", "source", "base.name")) {
      assertThat(runtime).contains("org.opencontainers.image." + label + "=");
    }
    assertThat(runtime).as("no USER: loading BPF needs root").doesNotContain("\nUSER ");
  }

  @Test
  void buildContextLeavesOutGitAndBuildOutput() {
    List<String> ignore = Repo.read(".dockerignore").lines().map(String::strip).toList();
    assertThat(ignore).contains(".git", "**/target");
  }
}
