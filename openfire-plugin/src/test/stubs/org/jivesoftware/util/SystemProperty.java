package org.jivesoftware.util;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Openfire's typed system property (org.jivesoftware.util.SystemProperty, Openfire 5.0.3): the
 * members the plugin uses, with the behaviour it relies on. As in Openfire: a key can be
 * registered once (build() refuses a second), {@link #removePropertiesForPlugin} forgets a
 * plugin's keys, {@link #getValue} gives the default when the text is missing or unparsable,
 * and listeners hear every change of their key through Openfire's property events.
 */
public final class SystemProperty<T> {
    private static final Map<String, SystemProperty<?>> PROPERTIES = new ConcurrentHashMap<>();

    private final Class<T> type;
    private final String key;
    private final String plugin;
    private final T defaultValue;
    private final boolean dynamic;
    private final boolean encrypted;
    private final ChronoUnit chronoUnit;
    private final List<Consumer<T>> listeners = new CopyOnWriteArrayList<>();

    private SystemProperty(Builder<T> builder) {
        this.type = builder.type;
        this.key = builder.key;
        this.plugin = builder.plugin;
        this.defaultValue = builder.defaultValue;
        this.dynamic = builder.dynamic;
        this.encrypted = builder.encrypted;
        this.chronoUnit = builder.chronoUnit;
    }

    public static Collection<SystemProperty> getProperties() {
        return List.copyOf(PROPERTIES.values());
    }

    public static Optional<SystemProperty> getProperty(String key) {
        return Optional.ofNullable(PROPERTIES.get(key));
    }

    public static void removePropertiesForPlugin(String plugin) {
        PROPERTIES.values().removeIf(property -> property.plugin.equals(plugin));
    }

    @SuppressWarnings("unchecked")
    public T getValue() {
        String raw = JiveGlobals.getProperty(key);
        if (raw == null) {
            return defaultValue;
        }
        try {
            Object value;
            if (type == String.class) {
                value = raw;
            } else if (type == Integer.class) {
                value = Integer.valueOf(raw.trim());
            } else if (type == Long.class) {
                value = Long.valueOf(raw.trim());
            } else if (type == Boolean.class) {
                value = Boolean.valueOf(raw.trim());
            } else if (type == Duration.class) {
                value = Duration.of(Long.parseLong(raw.trim()), chronoUnit);
            } else {
                throw new UnsupportedOperationException("stand-in: type " + type);
            }
            return (T) value;
        } catch (NumberFormatException e) {
            return defaultValue;
        }
    }

    public String getKey() {
        return key;
    }

    public T getDefaultValue() {
        return defaultValue;
    }

    public String getPlugin() {
        return plugin;
    }

    public boolean isDynamic() {
        return dynamic;
    }

    public boolean isEncrypted() {
        return encrypted;
    }

    public void addListener(Consumer<T> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<T> listener) {
        listeners.remove(listener);
    }

    /** Openfire calls the listeners from its own property-event listener; so does this stand-in. */
    static void dispatch(String key) {
        SystemProperty<?> property = PROPERTIES.get(key);
        if (property != null) {
            property.notifyListeners();
        }
    }

    private void notifyListeners() {
        T value = getValue();
        for (Consumer<T> listener : listeners) {
            listener.accept(value);
        }
    }

    public int testListenerCount() {
        return listeners.size();
    }

    public static final class Builder<T> {
        private final Class<T> type;
        private String key;
        private String plugin = "Openfire";
        private T defaultValue;
        private Boolean dynamic;
        private boolean encrypted;
        private ChronoUnit chronoUnit;

        private Builder(Class<T> type) {
            this.type = type;
        }

        public static <T> Builder<T> ofType(Class<T> type) {
            return new Builder<>(type);
        }

        public Builder<T> setKey(String key) {
            this.key = key;
            return this;
        }

        public Builder<T> setDefaultValue(T defaultValue) {
            this.defaultValue = defaultValue;
            return this;
        }

        public Builder<T> setDynamic(boolean dynamic) {
            this.dynamic = dynamic;
            return this;
        }

        public Builder<T> setEncrypted(boolean encrypted) {
            this.encrypted = encrypted;
            return this;
        }

        public Builder<T> setPlugin(String plugin) {
            this.plugin = plugin;
            return this;
        }

        public Builder<T> setChronoUnit(ChronoUnit chronoUnit) {
            this.chronoUnit = chronoUnit;
            return this;
        }

        public SystemProperty<T> build() {
            if (key == null || dynamic == null) {
                throw new NullPointerException("key and dynamism must be set");
            }
            if (!Set.of(String.class, Duration.class).contains(type) && defaultValue == null) {
                throw new NullPointerException("The properties default value has not been set");
            }
            if ((type == Duration.class) != (chronoUnit != null)) {
                throw new IllegalArgumentException("a ChronoUnit is needed by, and only by, Duration properties");
            }
            if (PROPERTIES.containsKey(key)) {
                throw new IllegalArgumentException("A SystemProperty already exists with a key of " + key);
            }
            SystemProperty<T> property = new SystemProperty<>(this);
            PROPERTIES.put(key, property);
            return property;
        }
    }
}
