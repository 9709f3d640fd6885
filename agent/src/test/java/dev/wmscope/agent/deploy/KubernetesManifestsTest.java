package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes validated against the Kubernetes API schema without a cluster: the official
 * Java client's models (io.kubernetes:client-java-api, generated from the API's OpenAPI spec)
 * reject unknown fields and missing required ones ({@code validateJsonElement}), and a round trip
 * through the typed model catches values of the wrong type (a string where a boolean belongs).
 * Then the settings a node agent needs, checked one by one.
 */
class KubernetesManifestsTest {
  static final String DIR = "deploy/kubernetes/";
  private static final Gson GSON = new Gson();

  /** The schema check for one kind; throws IOException naming the first violation. */
  private interface Schema {
    void validate(JsonElement json) throws IOException;
  }

  private static final Map<String, Schema> SCHEMAS = Map.of(
      "v1/Namespace", j -> roundTrip(j, V1Namespace.class, V1Namespace::validateJsonElement),
      "v1/ServiceAccount", j -> roundTrip(j, V1ServiceAccount.class, V1ServiceAccount::validateJsonElement),
      "v1/ConfigMap", j -> roundTrip(j, V1ConfigMap.class, V1ConfigMap::validateJsonElement),
      "apps/v1/DaemonSet", j -> roundTrip(j, V1DaemonSet.class, V1DaemonSet::validateJsonElement));

  private static <T> void roundTrip(JsonElement json, Class<T> type, Schema schema) throws IOException {
    schema.validate(json);
    JsonElement back = GSON.toJsonTree(GSON.fromJson(json, type));
    if (!prune(back).equals(prune(json))) {
      throw new IOException("values of the wrong type: the " + type.getSimpleName()
          + " model reads " + prune(json) + "\n as " + prune(back));
    }
  }

  /** Drops nulls and empty arrays and objects (the models initialise every list and map). */
  private static JsonElement prune(JsonElement e) {
    if (e.isJsonObject()) {
      JsonObject out = new JsonObject();
      e.getAsJsonObject().entrySet().forEach(en -> {
        JsonElement v = prune(en.getValue());
        if (!v.isJsonNull() && !(v.isJsonArray() && v.getAsJsonArray().isEmpty())
            && !(v.isJsonObject() && v.getAsJsonObject().isEmpty())) {
          out.add(en.getKey(), v);
        }
      });
      return out;
    }
    if (e.isJsonArray()) {
      JsonArray out = new JsonArray();
      e.getAsJsonArray().forEach(v -> out.add(prune(v)));
      return out;
    }
    return e;
  }

  private static List<Map<String, Object>> resources() {
    Map<String, Object> kustomization = Repo.yaml(DIR + "kustomization.yaml");
    List<String> files = Repo.at(kustomization, "resources");
    List<Map<String, Object>> out = new ArrayList<>();
    for (String f : files) {
      for (Object doc : Repo.yamlAll(DIR + f)) {
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) doc;
        out.add(m);
      }
    }
    return out;
  }

  private static Map<String, Object> resource(String kind) {
    return resources().stream().filter(r -> kind.equals(r.get("kind"))).findFirst().orElseThrow();
  }

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    Map<String, Object> kustomization = Repo.yaml(DIR + "kustomization.yaml");
    assertThat(Repo.<String>at(kustomization, "kind")).isEqualTo("Kustomization");
    try (Stream<java.nio.file.Path> files = Files.list(Repo.root().resolve(DIR))) {
      List<String> yaml = files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList();
      assertThat(Repo.<List<String>>at(kustomization, "resources")).containsExactlyInAnyOrderElementsOf(yaml);
    }
    assertThat(Repo.<String>at(kustomization, "images", 0, "name")).isEqualTo(
        Repo.<String>at(resource("DaemonSet"), "spec", "template", "spec", "containers", 0, "image").split(":")[0]);
  }

  @Test
  void everyManifestMatchesTheKubernetesApiSchema() throws IOException {
    List<Map<String, Object>> resources = resources();
    assertThat(resources).extracting(r -> r.get("kind"))
        .containsExactlyInAnyOrder("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet");
    for (Map<String, Object> r : resources) {
      String key = r.get("apiVersion") + "/" + r.get("kind");
      assertThat(SCHEMAS).as("a schema for %s", key).containsKey(key);
      SCHEMAS.get(key).validate(GSON.toJsonTree(r));
      if (!"Namespace".equals(r.get("kind"))) {
        assertThat(Repo.<String>at(r, "metadata", "namespace")).as("namespace of %s", key).isEqualTo("wmscope");
      }
    }
  }

  @Test
  void theSchemaCheckCatchesTyposMissingFieldsAndWrongTypes() {
    Map<String, Object> ds = resource("DaemonSet");
    JsonObject typo = GSON.toJsonTree(ds).getAsJsonObject();
    typo.getAsJsonObject("spec").getAsJsonObject("template").getAsJsonObject("spec").addProperty("hostPid", true);
    assertThatThrownBy(() -> SCHEMAS.get("apps/v1/DaemonSet").validate(typo)).hasMessageContaining("hostPid");

    JsonObject missing = GSON.toJsonTree(ds).getAsJsonObject();
    missing.getAsJsonObject("spec").getAsJsonObject("template").getAsJsonObject("spec")
        .getAsJsonArray("containers").get(0).getAsJsonObject().remove("name");
    assertThatThrownBy(() -> SCHEMAS.get("apps/v1/DaemonSet").validate(missing)).hasMessageContaining("name");

    JsonObject wrongType = GSON.toJsonTree(ds).getAsJsonObject();
    wrongType.getAsJsonObject("spec").getAsJsonObject("template").getAsJsonObject("spec").addProperty("hostPID", "yes");
    assertThatThrownBy(() -> SCHEMAS.get("apps/v1/DaemonSet").validate(wrongType)).hasMessageContaining("wrong type");
  }

  @Test
  void daemonSetSeesTheHostWithCapabilitiesNotPrivilege() {
    Map<String, Object> ds = resource("DaemonSet");
    Map<String, Object> pod = Repo.at(ds, "spec", "template", "spec");
    assertThat(Repo.<Boolean>at(pod, "hostPID")).isTrue();
    assertThat(Repo.<Object>at(pod, "hostNetwork")).as("pod networking: OTLP goes to a Service").isNull();
    assertThat(Repo.<Boolean>at(pod, "automountServiceAccountToken")).isFalse();
    Map<String, String> selector = Repo.at(ds, "spec", "selector", "matchLabels");
    Map<String, String> labels = Repo.at(ds, "spec", "template", "metadata", "labels");
    assertThat(labels).containsAllEntriesOf(selector);

    Map<String, Object> c = Repo.at(pod, "containers", 0);
    Map<String, Object> sc = Repo.at(c, "securityContext");
    assertThat(Repo.<Boolean>at(sc, "privileged")).isFalse();
    assertThat(Repo.<Boolean>at(sc, "allowPrivilegeEscalation")).isFalse();
    assertThat(Repo.<Boolean>at(sc, "readOnlyRootFilesystem")).isTrue();
    assertThat(Repo.<List<String>>at(sc, "capabilities", "drop")).containsExactly("ALL");
    assertThat(Repo.<List<String>>at(sc, "capabilities", "add"))
        .containsExactlyInAnyOrder("BPF", "PERFMON", "NET_ADMIN", "SYS_PTRACE");

    // the host's cgroup tree where the container's own would be, BTF, a writable /tmp
    List<Map<String, Object>> mounts = Repo.at(c, "volumeMounts");
    List<Map<String, Object>> volumes = Repo.at(pod, "volumes");
    assertThat(mounts).extracting(m -> m.get("mountPath")).contains("/sys/fs/cgroup", "/sys/kernel/btf", "/tmp", "/run/wmscope");
    for (Map<String, Object> m : mounts) {
      Map<String, Object> v = volumes.stream().filter(x -> x.get("name").equals(m.get("name"))).findFirst().orElseThrow();
      if (v.containsKey("hostPath")) {
        assertThat(Repo.<String>at(v, "hostPath", "path")).as("host path of %s", m.get("name")).isEqualTo(m.get("mountPath"));
        // only the lock directory (one agent per host, shared by pods on the node) is writable
        if (!m.get("mountPath").equals("/run/wmscope")) {
          assertThat(m.get("readOnly")).as("%s read-only", m.get("name")).isEqualTo(true);
        }
      }
    }
  }

  @Test
  void daemonSetHasResourcesProbesAndItsConfig() {
    Map<String, Object> pod = Repo.at(resource("DaemonSet"), "spec", "template", "spec");
    Map<String, Object> c = Repo.at(pod, "containers", 0);
    assertThat(Repo.<String>at(c, "resources", "requests", "cpu")).isNotBlank();
    assertThat(Repo.<String>at(c, "resources", "requests", "memory")).isNotBlank();
    assertThat(Repo.<String>at(c, "resources", "limits", "memory")).isNotBlank();
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      assertThat(Repo.<List<String>>at(c, probe, "exec", "command"))
          .as("%s runs the image's /healthz probe", probe).containsExactly("/opt/wmscope/bin/wmscope-healthz");
    }
    assertThat(Repo.<List<String>>at(c, "args")).startsWith("run");
    assertThat(Repo.<String>at(pod, "serviceAccountName")).isEqualTo(Repo.at(resource("ServiceAccount"), "metadata", "name"));
    assertThat(Repo.<String>at(c, "envFrom", 0, "configMapRef", "name")).isEqualTo(Repo.at(resource("ConfigMap"), "metadata", "name"));

    Map<String, String> config = Repo.at(resource("ConfigMap"), "data");
    assertThat(config.get("OTEL_EXPORTER_OTLP_ENDPOINT")).as("OTLP to a collector Service")
        .matches("http://[a-z0-9-]+\\.[a-z0-9-]+\\.svc(\\.cluster\\.local)?:4317");
    assertThat(config).containsEntry("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    assertThat(config.keySet()).allMatch(k -> k.startsWith("OTEL_") || k.startsWith("WMSCOPE_"));
  }

  @Test
  void namespaceAdmitsPrivilegedPods() {
    assertThat(Repo.<String>at(resource("Namespace"), "metadata", "labels", "pod-security.kubernetes.io/enforce"))
        .isEqualTo("privileged");
  }
}
