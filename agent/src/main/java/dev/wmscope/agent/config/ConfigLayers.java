package dev.wmscope.agent.config;

import dev.wmscope.loader.KernelFeature;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where settings come from, in order of precedence: command-line flags &gt; {@code WMSCOPE_*}
 * environment variables &gt; the YAML file ({@code --config FILE} or {@code WMSCOPE_CONFIG}) &gt;
 * built-in defaults.
 *
 * <p>Every long flag of {@code wmscope run} is a setting: {@code --poll-interval} is the file key
 * {@code poll-interval} and the variable {@code WMSCOPE_POLL_INTERVAL}. The other commands take
 * only the {@link #SHARED} settings from the environment and the file (so {@code wmscope status}
 * finds an agent configured with another {@code http-address}); their own flags (filters such
 * as {@code connections --port}) come from the command line only.
 *
 * <p>It plugs into picocli as the default-value provider: a flag that is not on the command line
 * takes its value from here, converted and checked by picocli like a typed flag. Values are
 * type-checked here first, so a bad one is reported with its source (variable or file and
 * line) instead of as a flag; {@link #check} reports those errors and unknown file keys before
 * any command runs. Variables with the prefix that name no setting ({@code WMSCOPE_DEBUG},
 * {@code WMSCOPE_JAVA_OPTS}, ...) are left alone: other tools use the prefix too.
 *
 * <p>Not thread-safe: used while the command line is parsed, on one thread.
 */
public final class ConfigLayers implements CommandLine.IDefaultValueProvider {
  public static final String ENV_PREFIX = "WMSCOPE_";
  /** The variable naming the config file when --config is not given. */
  public static final String CONFIG_ENV = "WMSCOPE_CONFIG";
  /** The flag naming the config file. */
  public static final String CONFIG_FLAG = "--config";
  /** The command whose flags are the settings. */
  static final String AGENT_COMMAND = "run";
  /** Settings every command that has the flag takes from the environment and the file. */
  public static final Set<String> SHARED = Set.of("http-address", "log-format", "lock-file", "http-token-file");
  private static final Set<String> NOT_SETTINGS = Set.of("help", "version", "config");

  /** Where one setting's value came from. */
  public record Setting(String key, String value, Source source, String where) {
    /** "WMSCOPE_POLL_INTERVAL=soon" or "/etc/wmscope.yaml line 3: poll-interval: soon". */
    public String describe() {
      return source == Source.ENV ? where + "=" + value : where + ": " + key + ": " + value;
    }
  }

  /** A layer below the command line. */
  public enum Source {
    ENV,
    FILE
  }

  private final Map<String, String> env;
  private final Optional<Path> filePath;
  private ConfigFile file;
  private ConfigException fileError;
  private final Map<String, String> valueErrors = new LinkedHashMap<>();

  /**
   * @param env      the environment (System.getenv() in production)
   * @param filePath the config file, if one was named
   */
  public ConfigLayers(Map<String, String> env, Optional<Path> filePath) {
    this.env = Map.copyOf(env);
    this.filePath = filePath;
    if (filePath.isPresent()) {
      try {
        file = ConfigFile.read(filePath.get());
      } catch (ConfigException e) {
        fileError = e; // reported by check(), so --help still works with a broken file
      }
    }
  }

  /**
   * The layers for a command line: the file from {@code --config FILE} (or {@code --config=FILE})
   * anywhere in {@code args} before a {@code --}, else from {@code WMSCOPE_CONFIG}.
   */
  public static ConfigLayers of(Map<String, String> env, String[] args) {
    return new ConfigLayers(env, configPath(env, args));
  }

  static Optional<Path> configPath(Map<String, String> env, String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        break;
      }
      if (a.equals(CONFIG_FLAG) && i + 1 < args.length) {
        return Optional.of(Path.of(args[i + 1]));
      }
      if (a.startsWith(CONFIG_FLAG + "=")) {
        return Optional.of(Path.of(a.substring(CONFIG_FLAG.length() + 1)));
      }
    }
    String fromEnv = env.get(CONFIG_ENV);
    return fromEnv == null || fromEnv.isBlank() ? Optional.empty() : Optional.of(Path.of(fromEnv.strip()));
  }

  /** The config file in use, if any. */
  public Optional<Path> file() {
    return filePath;
  }

  /** The environment variable for a setting: poll-interval is WMSCOPE_POLL_INTERVAL. */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** The setting key of a flag (its longest name without dashes), or null for help/version/config. */
  static String key(OptionSpec o) {
    String name = o.longestName();
    if (!name.startsWith("--")) {
      return null;
    }
    String key = name.substring(2);
    return NOT_SETTINGS.contains(key) ? null : key;
  }

  private static boolean applies(CommandSpec command, String key) {
    return command != null && (AGENT_COMMAND.equals(command.name()) || SHARED.contains(key));
  }

  /** The environment or file value for a setting, env first. */
  public Optional<Setting> lookup(String key) {
    String fromEnv = env.get(envName(key));
    if (fromEnv != null) {
      return Optional.of(new Setting(key, fromEnv, Source.ENV, envName(key)));
    }
    if (file != null && file.values().containsKey(key)) {
      return Optional.of(new Setting(key, file.values().get(key), Source.FILE, file.where(key)));
    }
    return Optional.empty();
  }

  /** Where an option's value came from when the command line did not set it. */
  public Optional<Setting> origin(OptionSpec option) {
    String key = key(option);
    if (key == null || !applies(option.command(), key)) {
      return Optional.empty();
    }
    return lookup(key);
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    Optional<Setting> s = origin(option);
    if (s.isEmpty()) {
      return null;
    }
    String error = typeError(option, s.get().value());
    if (error != null) {
      valueErrors.put(s.get().key(), s.get().describe() + ": " + error);
      return null; // the built-in default stands in until check() reports it
    }
    String v = s.get().value().strip();
    if (isBoolean(option)) {
      return Boolean.toString(parseBoolean(v));
    }
    return v;
  }

  /**
   * Throws the first problem with the environment or file: an unreadable or invalid file, a
   * key no setting has (with the closest one), a value of the wrong type.
   */
  public void check(CommandSpec root) {
    if (fileError != null) {
      throw fileError;
    }
    String off = env.get(KernelFeature.DISABLE_ENV);
    if (off != null) {
      try {
        KernelFeature.parseList(off);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(KernelFeature.DISABLE_ENV + "=" + off + ": " + e.getMessage());
      }
    }
    CommandLine agent = root.subcommands().get(AGENT_COMMAND);
    Set<String> known = new TreeSet<>();
    if (agent != null) {
      agent.getCommandSpec().options().forEach(o -> {
        String k = key(o);
        if (k != null) {
          known.add(k);
        }
      });
    }
    if (file != null) {
      for (String k : file.values().keySet()) {
        if (!known.contains(k)) {
          String hint = closest(k, known).map(c -> "did you mean " + c + "? ").orElse("");
          throw new ConfigException("config " + file.where(k) + ": unknown key " + k + " (" + hint
              + "keys are the long flags of `wmscope run --help` without the dashes)");
        }
      }
      // values are type-checked when picocli asks for them; ask for every one the file has, so
      // a bad value of a setting this command does not use is still reported
      if (agent != null) {
        agent.getCommandSpec().options().forEach(o -> {
          String k = key(o);
          if (k != null && file.values().containsKey(k)) {
            defaultValue(o);
          }
        });
      }
    }
    if (!valueErrors.isEmpty()) {
      throw new ConfigException(valueErrors.values().iterator().next());
    }
  }

  // --- value checks by flag type, so picocli never sees a value it cannot convert ---

  static String typeError(OptionSpec o, String raw) {
    String v = raw.strip();
    Class<?> type = o.type();
    if (isBoolean(o)) {
      return parseBooleanOrNull(v) == null ? "expected true or false" : null;
    }
    if (v.isEmpty()) {
      return "empty value";
    }
    if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) {
      Class<?> item = type.isArray() ? type.getComponentType() : o.auxiliaryTypes()[0];
      String split = o.splitRegex().isEmpty() ? "," : o.splitRegex();
      for (String part : v.split(split)) {
        String err = scalarError(item, part.strip());
        if (err != null) {
          return err;
        }
      }
      return null;
    }
    return scalarError(type, v);
  }

  private static String scalarError(Class<?> type, String v) {
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      try {
        Long.parseLong(v);
        return null;
      } catch (NumberFormatException e) {
        return "expected a whole number";
      }
    }
    if (type == double.class || type == Double.class) {
      try {
        Double.parseDouble(v);
        return null;
      } catch (NumberFormatException e) {
        return "expected a number";
      }
    }
    if (type.isEnum()) {
      for (Object c : type.getEnumConstants()) {
        if (((Enum<?>) c).name().equalsIgnoreCase(v)) {
          return null;
        }
      }
      List<String> names = new ArrayList<>();
      for (Object c : type.getEnumConstants()) {
        names.add(((Enum<?>) c).name().toLowerCase(Locale.ROOT));
      }
      return "expected one of " + String.join(", ", names);
    }
    if (type == Pattern.class) {
      try {
        Pattern.compile(v);
        return null;
      } catch (PatternSyntaxException e) {
        return "not a regular expression (" + e.getDescription() + ")";
      }
    }
    return null; // String, Path: any text
  }

  private static boolean isBoolean(OptionSpec o) {
    return o.type() == boolean.class || o.type() == Boolean.class;
  }

  private static boolean parseBoolean(String v) {
    Boolean b = parseBooleanOrNull(v);
    return b != null && b;
  }

  private static Boolean parseBooleanOrNull(String v) {
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> Boolean.TRUE;
      case "false", "no", "off", "0" -> Boolean.FALSE;
      default -> null;
    };
  }

  /** The known key nearest to a misspelt one, if it is close. */
  static Optional<String> closest(String key, Set<String> known) {
    return known.stream()
        .map(k -> Map.entry(k, distance(key, k)))
        .filter(e -> e.getValue() <= Math.max(2, key.length() / 3))
        .min(Comparator.comparingInt(Map.Entry::getValue))
        .map(Map.Entry::getKey);
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
