package org.slf4j;

public final class LoggerFactory {
    private LoggerFactory() {
    }

    public static Logger getLogger(Class<?> type) {
        String name = type.getSimpleName();
        return new Logger() {
            public void info(String message) {
                System.err.println("INFO  " + name + ": " + message);
            }

            public void warn(String message) {
                System.err.println("WARN  " + name + ": " + message);
            }

            public void error(String message, Throwable cause) {
                System.err.println("ERROR " + name + ": " + message + (cause == null ? "" : " (" + cause + ")"));
            }
        };
    }
}
