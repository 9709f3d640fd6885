package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.Main;
import dev.wmscope.agent.config.ConfigLayers;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The README documents every command, every setting of `run` and every exit code. */
class DocumentationTest {
  private static String readme() throws IOException {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("agent"))) {
        return Files.readString(p.resolve("README.md"));
      }
    }
    throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void everyCommandSettingAndExitCodeIsDocumented() throws Exception {
    String readme = readme();
    CommandLine cli = Main.commandLine();
    for (String command : cli.getSubcommands().keySet()) {
      if (!command.equals("help")) {
        assertThat(readme).as("command %s", command).contains("`wmscope " + command);
      }
    }
    for (CommandLine.Model.OptionSpec o : cli.getSubcommands().get("run").getCommandSpec().options()) {
      String name = o.longestName();
      if (name.equals("--help") || name.equals("--version")) {
        continue;
      }
      assertThat(readme).as("flag %s", name).contains("`" + name);
      if (!name.equals("--config")) {
        String key = name.substring(2);
        assertThat(readme).as("config key %s", key).contains("`" + key + "`");
      }
    }
    for (Field f : ExitCodes.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
        assertThat(readme).as("exit code %s", f.getName()).contains("| `" + f.getInt(null) + "` |");
      }
    }
    assertThat(readme).contains(ConfigLayers.envName("poll-interval"), "WMSCOPE_CONFIG",
        "flags > `WMSCOPE_*` environment variables > the config file > defaults");
  }
}
