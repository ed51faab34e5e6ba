package org.jitsictl.openfire.attendance.core;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The live settings: re-read cheaply whenever asked, re-parsed (and problems reported once)
 * only when a property's text actually changed, so a change made through the REST API takes
 * effect without a restart and a bad value is logged once, not on every tick.
 */
public final class SettingsHolder {
    private final Function<String, String> lookup;
    private final Consumer<String> problems;
    private Map<String, String> lastRaw;
    private volatile Settings current = Settings.DEFAULTS;

    public SettingsHolder(Function<String, String> lookup, Consumer<String> problems) {
        this.lookup = lookup;
        this.problems = problems;
        refresh();
    }

    /** One property's current text, read live (for switches that act once, not settings). */
    public String property(String name) {
        return lookup.apply(name);
    }

    public Settings get() {
        return current;
    }

    /** Re-reads the properties; returns the settings now in force. */
    public synchronized Settings refresh() {
        Map<String, String> raw = new HashMap<>();
        for (String name : Settings.NAMES) {
            raw.put(name, lookup.apply(name));
        }
        if (!raw.equals(lastRaw)) {
            Map<String, String> before = lastRaw == null ? Map.of() : lastRaw;
            lastRaw = raw;
            // Report a bad value when its text changes, not again when another property changes.
            current = Settings.parse(raw::get, current, (name, problem) -> {
                if (!Objects.equals(before.get(name), raw.get(name)) || !before.containsKey(name)) {
                    problems.accept(problem);
                }
            });
        }
        return current;
    }
}
