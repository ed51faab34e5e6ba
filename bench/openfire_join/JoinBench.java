import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jitsictl.openfire.attendance.core.AttendanceRecorder;
import org.jitsictl.openfire.attendance.core.EventFactory;
import org.jitsictl.openfire.attendance.core.Json;
import org.jitsictl.openfire.attendance.core.JwtIdentity;
import org.jitsictl.openfire.attendance.core.PluginLog;
import org.jitsictl.openfire.attendance.core.SettingsHolder;
import org.jitsictl.openfire.attendance.core.Spool;
import org.jitsictl.openfire.attendance.core.WebhookSigner;

/**
 * CPU cost per join of the Openfire plugin's JDK-only core, stage by stage, on this thread:
 *
 *   build  the presence <nick> hint and occupantJoined: dedup state, JWT verification (token
 *          users), the contract-v1 event
 *   json   serialising the event (org.json)
 *   sign   its share of signing a 50-event batch (Standard Webhooks, HMAC-SHA256)
 *   spool  its share of appending a 50-event batch to the spool (one fsynced file per batch)
 *
 * Each occupant leaves again after its join (not measured), so state stays the size of a class.
 * Usage (see run): java JoinBench [joins per round] [rounds]
 */
public final class JoinBench {
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final String JWT_SECRET = "bench-jwt-secret-0123456789abcdef";
    private static final String WEBHOOK_SECRET = "whsec_EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8=";
    private static final int BATCH = 50;

    public static void main(String[] args) throws Exception {
        int joins = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        for (boolean tokens : new boolean[] {false, true}) {
            run(joins / 4, tokens, false); // warm-up: JIT
            List<double[]> results = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                results.add(run(joins, tokens, true));
            }
            results.sort(Comparator.comparingDouble(r -> r[4]));
            double[] median = results.get(results.size() / 2);
            System.out.printf("%-12s %6d joins x %d rounds, median round, CPU us/join: build %.2f  json %.2f  sign %.2f  "
                            + "spool %.2f  total %.2f  (total over rounds %.2f-%.2f)%n",
                    tokens ? "token users" : "guests", joins, rounds, median[0], median[1], median[2], median[3], median[4],
                    results.get(0)[4], results.get(results.size() - 1)[4]);
        }
    }

    private static double[] run(int joins, boolean tokens, boolean measured) throws Exception {
        Path dir = Files.createTempDirectory("join-bench");
        List<Map<String, Object>> events = new ArrayList<>(joins + 1);
        SettingsHolder settings = new SettingsHolder(
                name -> switch (name) {
                    case "attendance.jwt.secret" -> JWT_SECRET;
                    case "attendance.claims" -> "courseid,groupid";
                    default -> null;
                }, problem -> { });
        PluginLog quiet = new PluginLog() {
            public void info(String message) { }
            public void warn(String message) { }
            public void error(String message, Throwable cause) { }
        };
        String token = JwtIdentity.sign(Map.of("context", Map.of("user", Map.of("id", "u-1", "name", "Zoë Martin",
                "email", "zoe@school.example"), "group", "class-3b"), "courseid", "MATH101", "groupid", "3B",
                "exp", System.currentTimeMillis() / 1000 + 3600), JWT_SECRET);
        AttendanceRecorder recorder = new AttendanceRecorder(new EventFactory(Clock.systemUTC()), settings,
                event -> { if (event.get("occupant") != null && "occupant.joined".equals(event.get("type"))) events.add(event); },
                quiet, user -> tokens ? token : null, bare -> false, (room, user) -> "participant");
        String room = "maths-3b@conference.meet.jitsi";
        recorder.roomCreated(room);
        long build = 0;
        for (int i = 0; i < joins; i++) {
            String resource = Integer.toHexString(0x10000000 + i);
            String user = "student" + (i % 40) + "@meet.jitsi/web-" + i;
            long start = CPU.getCurrentThreadCpuTime();
            recorder.presence(room, resource, user, "Zoë 🎓 " + (i % 40));
            recorder.occupantJoined(room, resource, user);
            build += CPU.getCurrentThreadCpuTime() - start;
            recorder.occupantLeft(room, resource, user);
        }
        long start = CPU.getCurrentThreadCpuTime();
        List<String> lines = new ArrayList<>(events.size());
        for (Map<String, Object> event : events) {
            lines.add(Json.write(event));
        }
        long json = CPU.getCurrentThreadCpuTime() - start;

        WebhookSigner signer = new WebhookSigner(WEBHOOK_SECRET);
        start = CPU.getCurrentThreadCpuTime();
        for (int i = 0; i < lines.size(); i += BATCH) {
            byte[] body = ("{\"events\":[" + String.join(",", lines.subList(i, Math.min(lines.size(), i + BATCH))) + "]}")
                    .getBytes(StandardCharsets.UTF_8);
            signer.sign("msg_" + i, 1_700_000_000L, body);
        }
        long sign = CPU.getCurrentThreadCpuTime() - start;

        Spool spool = new Spool(dir);
        start = CPU.getCurrentThreadCpuTime();
        for (int i = 0; i < lines.size(); i += BATCH) {
            spool.append(lines.subList(i, Math.min(lines.size(), i + BATCH)), Integer.MAX_VALUE);
        }
        long spooled = CPU.getCurrentThreadCpuTime() - start;
        if (events.size() != joins) {
            throw new IllegalStateException("expected " + joins + " joined events, got " + events.size());
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        double per = 1000.0 * joins;
        return new double[] {build / per, json / per, sign / per, spooled / per, (build + json + sign + spooled) / per};
    }
}
