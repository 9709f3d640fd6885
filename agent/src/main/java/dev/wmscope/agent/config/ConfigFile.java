package dev.wmscope.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The YAML configuration file ({@code --config FILE}): one flat mapping whose keys are the long
 * flag names without the dashes, e.g. {@code poll-interval: 500ms} or {@code port: [8080, 2346]}.
 * Values are scalars, or lists of scalars for repeatable flags. Parsing is safe (no YAML tags
 * build Java objects), duplicate keys are an error, and the file is at most 1 MiB.
 *
 * <p>Immutable once read; errors are {@link ConfigException}s naming the file and, where YAML
 * knows it, the line.
 */
public final class ConfigFile {
  static final long MAX_BYTES = 1 << 20;

  private final Path path;
  private final Map<String, String> values;
  private final Map<String, Integer> lines;

  private ConfigFile(Path path, Map<String, String> values, Map<String, Integer> lines) {
    this.path = path;
    this.values = values;
    this.lines = lines;
  }

  /** Reads and parses a file; every failure names the file and says why. */
  public static ConfigFile read(Path path) {
    String text;
    try {
      if (Files.size(path) > MAX_BYTES) {
        throw new ConfigException("config " + path + ": larger than 1 MiB; is this the right file?");
      }
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config " + path + ": no such file");
    } catch (MalformedInputException e) {
      throw new ConfigException("config " + path + ": not UTF-8 text");
    } catch (IOException e) {
      throw new ConfigException("config " + path + ": cannot read (" + e.getMessage() + ")");
    }
    return parse(path, text);
  }

  /** Parses YAML text that came from {@code path} (the path only names it in messages). */
  public static ConfigFile parse(Path path, String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setAllowRecursiveKeys(false);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    Object root;
    try (Reader r = new java.io.StringReader(text)) {
      root = yaml.load(r);
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark();
      String where = m == null ? "" : "line " + (m.getLine() + 1) + ": ";
      String problem = e.getProblem() == null ? e.getMessage() : e.getProblem();
      throw new ConfigException("config " + path + ": " + where + "not valid YAML (" + oneLine(problem) + ")");
    } catch (YAMLException | IOException e) {
      throw new ConfigException("config " + path + ": not valid YAML (" + oneLine(e.getMessage()) + ")");
    }
    if (root == null) {
      return new ConfigFile(path, Map.of(), Map.of()); // empty file: nothing configured
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new ConfigException("config " + path + ": expected a mapping of settings (key: value), found "
          + describe(root));
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String key)) {
        throw new ConfigException("config " + path + ": key " + e.getKey() + ": keys are setting names, e.g. poll-interval");
      }
      values.put(key, scalarOrList(path, key, e.getValue()));
    }
    return new ConfigFile(path, Map.copyOf(values), lineNumbers(text, values.keySet()));
  }

  private static String scalarOrList(Path path, String key, Object value) {
    if (value instanceof List<?> list) {
      List<String> items = new ArrayList<>();
      for (Object item : list) {
        if (item == null || item instanceof Map<?, ?> || item instanceof List<?>) {
          throw new ConfigException("config " + path + ": " + key + ": list items must be plain values, found "
              + describe(item));
        }
        items.add(item.toString());
      }
      return String.join(",", items);
    }
    if (value == null) {
      throw new ConfigException("config " + path + ": " + key + ": no value (remove the key to use the default)");
    }
    if (value instanceof Map<?, ?>) {
      throw new ConfigException("config " + path + ": " + key + ": expected a value, found a nested mapping"
          + " (settings are flat: the flag name without dashes)");
    }
    if (value instanceof java.util.Date || value instanceof byte[]) {
      throw new ConfigException("config " + path + ": " + key + ": expected a plain value, found " + describe(value)
          + " (quote it)");
    }
    return value.toString();
  }

  /** The line each top-level key starts on, for messages (best effort). */
  private static Map<String, Integer> lineNumbers(String text, java.util.Set<String> keys) {
    Map<String, Integer> out = new LinkedHashMap<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon > 0 && !Character.isWhitespace(line.charAt(0))) {
        String k = line.substring(0, colon).strip();
        if (k.length() > 1 && (k.startsWith("\"") || k.startsWith("'"))) {
          k = k.substring(1, k.length() - 1);
        }
        if (keys.contains(k)) {
          out.putIfAbsent(k, i + 1);
        }
      }
    }
    return Map.copyOf(out);
  }

  private static String describe(Object o) {
    if (o == null) {
      return "nothing";
    }
    if (o instanceof Map<?, ?>) {
      return "a mapping";
    }
    if (o instanceof List<?>) {
      return "a list";
    }
    if (o instanceof java.util.Date) {
      return "a date";
    }
    if (o instanceof byte[]) {
      return "binary data";
    }
    return "the value " + o;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replaceAll("\\s+", " ").strip();
  }

  public Path path() {
    return path;
  }

  /** Key to value, lists joined with commas (the form the flags take). */
  public Map<String, String> values() {
    return values;
  }

  /** "FILE" or "FILE line N" for a key, for messages. */
  public String where(String key) {
    Integer line = lines.get(key);
    return line == null ? path.toString() : path + " line " + line;
  }
}
