package dev.wmscope.agent.deploy;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL reading for tests: the metric names and label names an expression uses.
 * Metric names are bare identifiers that are not functions or keywords, plus
 * {@code __name__} matchers (kept as regular expressions); labels are those in {@code {...}}
 * matchers and in by/without/on/ignoring/group_left/group_right lists.
 */
record PromQl(Set<String> metrics, Set<Pattern> metricPatterns, Set<String> labels) {

  private static final Set<String> WORDS = Set.of(
      // aggregations and keywords
      "sum", "avg", "min", "max", "count", "count_values", "group", "stddev", "stdvar", "topk",
      "bottomk", "quantile", "by", "without", "on", "ignoring", "group_left", "group_right",
      "and", "or", "unless", "bool", "offset", "inf", "nan",
      // functions
      "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "resets",
      "changes", "histogram_quantile", "histogram_count", "histogram_sum", "abs", "ceil", "floor",
      "round", "clamp", "clamp_min", "clamp_max", "exp", "ln", "log2", "log10", "sqrt", "scalar",
      "vector", "time", "timestamp", "sort", "sort_desc", "label_replace", "label_join", "absent",
      "absent_over_time", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
      "count_over_time", "last_over_time", "quantile_over_time", "stddev_over_time",
      // Grafana template functions in variable queries
      "label_values", "query_result", "metrics", "label_names");

  private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
  private static final Pattern NAME_MATCHER =
      Pattern.compile("__name__\\s*(=~|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern BRACES = Pattern.compile("\\{([^{}]*)}");
  private static final Pattern MATCHER_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^()]*)\\)");
  private static final Pattern RANGE = Pattern.compile("\\[[^\\]]*]");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?[a-zA-Z_][a-zA-Z0-9_]*(:[a-z]+)?}?");
  private static final Pattern IDENT = Pattern.compile("(?<![a-zA-Z0-9_.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_])");

  static PromQl parse(String expr) {
    Set<String> metrics = new LinkedHashSet<>();
    Set<Pattern> patterns = new LinkedHashSet<>();
    Set<String> labels = new LinkedHashSet<>();

    for (Matcher m = NAME_MATCHER.matcher(expr); m.find(); ) {
      String value = m.group(2).replace("\\\\", "\\");
      patterns.add(Pattern.compile(m.group(1).equals("=") ? Pattern.quote(value) : value));
    }
    String s = VARIABLE.matcher(expr).replaceAll("x");
    s = STRING.matcher(s).replaceAll("\"\"");
    for (Matcher m = BRACES.matcher(s); m.find(); ) {
      for (Matcher l = MATCHER_LABEL.matcher(m.group(1)); l.find(); ) {
        labels.add(l.group(1));
      }
    }
    s = BRACES.matcher(s).replaceAll(" ");
    for (Matcher m = GROUPING.matcher(s); m.find(); ) {
      for (String l : m.group(2).split(",")) {
        if (!l.isBlank()) {
          labels.add(l.strip());
        }
      }
    }
    s = GROUPING.matcher(s).replaceAll(" ");
    s = RANGE.matcher(s).replaceAll(" ");
    // label_values(metric, label): the second argument is a label
    Matcher lv = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*,\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)").matcher(s);
    if (lv.find()) {
      labels.add(lv.group(2));
      s = lv.replaceAll("label_values(" + (lv.group(1) == null ? "" : lv.group(1)) + ")");
    }
    for (Matcher m = IDENT.matcher(s); m.find(); ) {
      String word = m.group(1);
      if (!WORDS.contains(word.toLowerCase(java.util.Locale.ROOT)) && !word.matches("[0-9].*")) {
        metrics.add(word);
      }
    }
    labels.remove("__name__");
    return new PromQl(metrics, patterns, labels);
  }
}
