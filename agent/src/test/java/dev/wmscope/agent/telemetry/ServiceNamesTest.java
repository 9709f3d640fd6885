package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanApp;
import dev.wmscope.agent.discovery.WorkermanProcess;
import dev.wmscope.agent.discovery.WorkermanRole;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServiceNamesTest {
  private static WorkermanApp app(int master, String startFile, String... workerNames) {
    List<WorkermanProcess> workers = new java.util.ArrayList<>();
    int pid = master + 1;
    for (String name : workerNames) {
      workers.add(new WorkermanProcess(pid++, master, startFile, WorkermanRole.WORKER, name, "none", Optional.empty()));
    }
    return new WorkermanApp(master, startFile, "WorkerMan", !startFile.isEmpty(), workers);
  }

  @Test
  void conventionalStartFileIsNamedAfterItsDirectory() {
    assertThat(ServiceNames.forApp(app(100, "/srv/chat/start.php", "ChatWorker"))).contains("chat");
    assertThat(ServiceNames.forApp(app(100, "/var/www/webman/start.php"))).contains("webman");
  }

  @Test
  void otherStartFilesAreNamedAfterThemselves() {
    assertThat(ServiceNames.forApp(app(100, "/srv/push/push_server.php"))).contains("push_server");
    assertThat(ServiceNames.forApp(app(100, "/srv/shop/webman"))).contains("webman");
  }

  @Test
  void unknownStartFileFallsBackToTheOneWorkerName() {
    assertThat(ServiceNames.forApp(app(100, "", "Api", "Api"))).contains("Api");
    assertThat(ServiceNames.forApp(app(100, "", "Gateway", "BusinessWorker"))).isEmpty();
    assertThat(ServiceNames.forApp(app(100, ""))).isEmpty();
  }

  @Test
  void relativeStartFileWithoutDirectoryHasNoName() {
    assertThat(ServiceNames.forApp(app(100, "start.php", "Api"))).isEmpty();
  }

  @Test
  void oneNameAcrossAppsOrNone() {
    assertThat(ServiceNames.forApps(List.of())).isEmpty();
    assertThat(ServiceNames.forApps(List.of(app(100, "/srv/chat/start.php"), app(200, "/srv/shop/start.php")))).isEmpty();
    // the same app in two containers is one service
    assertThat(ServiceNames.forApps(List.of(app(100, "/app/start.php"), app(200, "/app/start.php")))).contains("app");
    assertThat(ServiceNames.forApps(List.of(app(100, "/srv/chat/start.php"), app(200, "", "A", "B")))).isEmpty();
  }
}
