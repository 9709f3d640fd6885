package dev.wmscope.agent.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** Files of the repository the deployment tests read (Maven runs tests in agent/). */
final class Repo {
  private Repo() {}

  static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("Dockerfile")) && Files.isRegularFile(p.resolve("agent/pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("repository root (with Dockerfile and agent/pom.xml) not found above "
        + Path.of("").toAbsolutePath());
  }

  static Path file(String relative) {
    Path p = root().resolve(relative);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(relative + " is missing");
    }
    return p;
  }

  static String read(String relative) {
    try {
      return Files.readString(file(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every YAML document in the file; duplicate keys are an error (SnakeYAML's default). */
  static List<Object> yamlAll(String relative) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    List<Object> docs = new ArrayList<>();
    new Yaml(options).loadAll(read(relative)).forEach(d -> {
      if (d != null) {
        docs.add(d);
      }
    });
    return docs;
  }

  /** The file's single YAML document, a mapping. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(String relative) {
    List<Object> docs = yamlAll(relative);
    if (docs.size() != 1 || !(docs.getFirst() instanceof Map)) {
      throw new IllegalStateException(relative + ": want one YAML mapping, got " + docs.size() + " documents");
    }
    return (Map<String, Object>) docs.getFirst();
  }

  /** Walks a path of keys (and list indexes) through nested maps and lists; null if absent. */
  @SuppressWarnings("unchecked")
  static <T> T at(Object node, Object... path) {
    Object cur = node;
    for (Object key : path) {
      if (cur instanceof Map<?, ?> m) {
        cur = m.get(key);
      } else if (cur instanceof List<?> l && key instanceof Integer i && i < l.size()) {
        cur = l.get(i);
      } else {
        return null;
      }
    }
    return (T) cur;
  }
}
