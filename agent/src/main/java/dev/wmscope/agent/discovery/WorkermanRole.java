package dev.wmscope.agent.discovery;

import java.util.Locale;
import java.util.Optional;

/**
 * The role of a Workerman process, the value of {@code workerman.role}.
 *
 * <p>{@link #MASTER} and {@link #WORKER} come from the process title. The GatewayWorker roles
 * are a best-effort guess from the worker name and listener, because a title shows neither the
 * PHP class nor the internal ports:
 * <ul>
 *   <li>{@link #REGISTER}: the name contains "register" and the worker listens on
 *       {@code text://} ({@code GatewayWorker\Register} names itself "Register" and forces the
 *       Text protocol), or the name is exactly "Register";</li>
 *   <li>{@link #GATEWAY}: the name contains "gateway" and the worker has a listener (the
 *       client-facing one; the demo names it "YourAppGateway");</li>
 *   <li>{@link #BUSINESS_WORKER}: the name contains "businessworker", "business worker" or
 *       "business_worker" and the worker has no listener (the demo's
 *       "YourAppBusinessWorker"; a BusinessWorker never listens);</li>
 *   <li>{@link #WORKER} otherwise, including a BusinessWorker left with the default name
 *       "none".</li>
 * </ul>
 * Names are compared case-insensitively.
 */
public enum WorkermanRole {
    MASTER("master"),
    WORKER("worker"),
    GATEWAY("gateway"),
    BUSINESS_WORKER("business_worker"),
    REGISTER("register");

    private final String attributeValue;

    WorkermanRole(String attributeValue) {
        this.attributeValue = attributeValue;
    }

    /** The value exported as {@code workerman.role}. */
    public String attributeValue() {
        return attributeValue;
    }

    /** Classifies a worker process by its name and listener (see the class comment). */
    public static WorkermanRole ofWorker(String name, Optional<ListenUri> listen) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        boolean listens = listen != null && listen.isPresent();
        if (n.equals("register")
                || (n.contains("register") && listens && listen.get().scheme().equals("text"))) {
            return REGISTER;
        }
        if (n.contains("gateway") && listens) {
            return GATEWAY;
        }
        if (!listens && (n.contains("businessworker") || n.contains("business worker")
                || n.contains("business_worker"))) {
            return BUSINESS_WORKER;
        }
        return WORKER;
    }
}
