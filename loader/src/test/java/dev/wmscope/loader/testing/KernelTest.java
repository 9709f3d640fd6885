package dev.wmscope.loader.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that loads real BPF programs: it is skipped with a reason without the
 * privileges, BTF or cgroup v2 it needs (a failure under WMSCOPE_REQUIRE_KERNEL=1), and after
 * each test nothing of ours may stay loaded or attached.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelTestExtension.class)
public @interface KernelTest {}
