package dev.wmscope.loader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Loads a BPF object with every optional feature the kernel allows and the core it cannot do
 * without.
 *
 * <p>Features switched off by the operator, or whose tracepoint this kernel's BTF lacks, have
 * their programs' autoload turned off before the first load. On most kernels that one load
 * succeeds. When it fails, the kernel refused something, and libbpf does not say which program
 * in a way one can rely on (a failed load frees every program): so one probe load per part
 * finds it, the core programs alone, then each remaining feature's programs alone, and the
 * object is loaded once more without the refused features. That is at most 2 + features
 * loads, once, at start; never a loop that retries until something loads. A refused core
 * fails with the name of the core program the kernel refused.
 *
 * <p>Not thread-safe; used once per probe start.
 */
final class FeatureLoader {
  private FeatureLoader() {}

  /** An optional part of a BPF object: its programs and the tracepoints they attach to. */
  interface Feature {
    String id();

    /** Programs that provide it (empty: it rides on the programs of the features it requires). */
    List<String> programs();

    /** Raw tracepoints its programs attach to, looked up in the kernel's BTF before any load. */
    List<String> tracepoints();

    /** Features it cannot work without: lost with them. */
    List<? extends Feature> requires();
  }

  /**
   * What to load.
   *
   * @param name         the object's name in messages
   * @param elf          the compiled object
   * @param corePrograms programs that must load, or nothing runs
   * @param features     the optional parts
   * @param configure    applied to every opened object before its load (map sizes)
   */
  record Spec<F extends Feature>(String name, byte[] elf, List<String> corePrograms, List<F> features,
      Consumer<BpfObject> configure) {}

  /**
   * A loaded object.
   *
   * @param object the object, loaded without the lost features' programs; the caller owns it
   * @param lost   each feature not loaded, with the reason, in the spec's order
   * @param loads  how many times an object was loaded to get here (1 when nothing was refused)
   */
  record Loaded<F extends Feature>(BpfObject object, Map<F, String> lost, int loads) {}

  /**
   * Loads the spec's object without the features in {@code off} (reason given) and without the
   * ones this kernel refuses.
   *
   * @param hasTracepoint whether the kernel has a raw tracepoint (BTF lookup, loads nothing)
   * @throws BpfException when the core cannot load, or the object fails for a reason no single
   *     feature explains (e.g. map memory)
   */
  static <F extends Feature> Loaded<F> load(Spec<F> spec, Map<F, String> off, Predicate<String> hasTracepoint) {
    Map<F, String> lost = new LinkedHashMap<>(off);
    for (F f : spec.features()) {
      if (!lost.containsKey(f)) {
        f.tracepoints().stream().filter(t -> !hasTracepoint.test(t)).findFirst()
            .ifPresent(t -> lost.put(f, "not in this kernel: no " + t + " tracepoint"));
      }
    }
    dropDependents(spec, lost);
    int[] loads = {0};
    try {
      BpfObject object = loadOnly(spec, enabled(spec, lost), loads);
      return new Loaded<>(object, ordered(spec, lost), loads[0]);
    } catch (BpfException whole) {
      requireCore(spec, loads);
      boolean refused = false;
      for (F f : spec.features()) {
        if (lost.containsKey(f) || f.programs().isEmpty()) {
          continue;
        }
        BpfException e = tryLoad(spec, f.programs(), loads);
        if (e != null) {
          lost.put(f, "refused by the kernel: " + BpfException.errnoName(e.errno()) + " loading "
              + refusedProgram(spec, f.programs(), loads));
          refused = true;
        }
      }
      if (!refused) {
        throw whole; // every part loads alone: not a refusal of one program
      }
      dropDependents(spec, lost);
      BpfObject object = loadOnly(spec, enabled(spec, lost), loads);
      return new Loaded<>(object, ordered(spec, lost), loads[0]);
    }
  }

  /** Throws the core's own failure, naming the core program the kernel refused. */
  private static void requireCore(Spec<?> spec, int[] loads) {
    BpfException core = tryLoad(spec, spec.corePrograms(), loads);
    if (core == null) {
      return;
    }
    String what = spec.corePrograms().isEmpty() ? "its maps"
        : "core program " + refusedProgram(spec, spec.corePrograms(), loads);
    throw new BpfException("load BPF object " + spec.name(), core.errno(),
        "the kernel refused " + what + ": " + causeOf(core), core.hint(), core.log(), core);
  }

  /** Which one of {@code programs} the kernel refuses on its own (the whole list when none alone). */
  private static String refusedProgram(Spec<?> spec, List<String> programs, int[] loads) {
    if (programs.size() > 1) {
      for (String p : programs) {
        if (tryLoad(spec, List.of(p), loads) != null) {
          return p;
        }
      }
    }
    return String.join("+", programs);
  }

  private static String causeOf(BpfException e) {
    String m = e.getMessage();
    int colon = m.indexOf(": ");
    return colon < 0 ? m : m.substring(colon + 2);
  }

  /** Loads and closes an object with only these programs; the failure, or null when it loaded. */
  private static BpfException tryLoad(Spec<?> spec, List<String> programs, int[] loads) {
    try (BpfObject ignored = loadOnly(spec, programs, loads)) {
      return null;
    } catch (BpfException e) {
      return e;
    }
  }

  /** Opens the object, turns autoload off for every program not in {@code programs}, loads it. */
  private static BpfObject loadOnly(Spec<?> spec, List<String> programs, int[] loads) {
    BpfObject object = BpfObject.open(spec.name(), spec.elf());
    try {
      for (String p : allPrograms(spec)) {
        if (!programs.contains(p)) {
          object.setAutoload(p, false);
        }
      }
      spec.configure().accept(object);
      loads[0]++;
      object.load();
      return object;
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
  }

  private static List<String> allPrograms(Spec<?> spec) {
    Set<String> all = new LinkedHashSet<>(spec.corePrograms());
    spec.features().forEach(f -> all.addAll(f.programs()));
    return List.copyOf(all);
  }

  private static <F extends Feature> List<String> enabled(Spec<F> spec, Map<F, String> lost) {
    List<String> on = new ArrayList<>(spec.corePrograms());
    for (F f : spec.features()) {
      if (!lost.containsKey(f)) {
        f.programs().stream().filter(p -> !on.contains(p)).forEach(on::add);
      }
    }
    return on;
  }

  /** A feature whose requirement is lost is lost too. */
  private static <F extends Feature> void dropDependents(Spec<F> spec, Map<F, String> lost) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (F f : spec.features()) {
        if (lost.containsKey(f)) {
          continue;
        }
        for (Feature r : f.requires()) {
          if (lost.containsKey(r)) {
            lost.put(f, "needs " + r.id() + ", which is not available");
            changed = true;
            break;
          }
        }
      }
    }
  }

  private static <F extends Feature> Map<F, String> ordered(Spec<F> spec, Map<F, String> lost) {
    Map<F, String> out = new LinkedHashMap<>();
    spec.features().stream().filter(lost::containsKey).forEach(f -> out.put(f, lost.get(f)));
    return java.util.Collections.unmodifiableMap(out);
  }
}
