package org.jitsictl.openfire.attendance.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bounded on-disk queue between the XMPP server and the receiver.
 *
 * <p>One file per batch, {@code <sequence>-<webhook id>.jsonl}, one serialised event per line.
 * A batch is written to a temporary file, fsynced and atomically renamed, so a crash leaves
 * either the whole batch or none of it; the directory is fsynced too so the rename survives a
 * power loss. The webhook id lives in the name, so every retry of a batch (also after a
 * restart) carries the same {@code webhook-id}. Files are deleted only after the receiver
 * answered 2xx. The bound counts events; what does not fit is refused and counted.
 */
public final class Spool {
    private static final Pattern NAME = Pattern.compile("(\\d{20})-([0-9a-f-]{36})\\.jsonl");

    private final Path dir;
    private final TreeMap<Long, Path> files = new TreeMap<>();
    private final Map<Path, Integer> counts = new java.util.HashMap<>();
    private long nextSequence;
    private int size;

    /** A batch as stored: its webhook id and its events' JSON texts. */
    public record Batch(long sequence, String webhookId, List<String> events) {
    }

    public Spool(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        restrictToOwner(dir, "rwx------");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path path : entries) {
                String name = path.getFileName().toString();
                Matcher m = NAME.matcher(name);
                if (m.matches()) {
                    long sequence = Long.parseLong(m.group(1));
                    int lines = readLines(path).size();
                    files.put(sequence, path);
                    counts.put(path, lines);
                    size += lines;
                    nextSequence = Math.max(nextSequence, sequence + 1);
                } else if (name.endsWith(".tmp")) {
                    // A batch whose write was interrupted: it was never acknowledged to anyone.
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    public Path directory() {
        return dir;
    }

    /** Events waiting on disk. */
    public synchronized int size() {
        return size;
    }

    public synchronized int batches() {
        return files.size();
    }

    /**
     * Stores as many of {@code events} as fit under {@code maxEvents}, as one batch; returns
     * how many were stored (the rest are refused: the caller reports the loss).
     */
    public synchronized int append(List<String> events, int maxEvents) throws IOException {
        int room = Math.max(0, maxEvents - size);
        List<String> accepted = events.size() <= room ? events : events.subList(0, room);
        if (accepted.isEmpty()) {
            return 0;
        }
        long sequence = nextSequence++;
        Path target = dir.resolve(String.format("%020d-%s.jsonl", sequence, UUID.randomUUID()));
        Path temp = dir.resolve(target.getFileName() + ".tmp");
        StringBuilder text = new StringBuilder();
        for (String event : accepted) {
            text.append(event).append('\n');
        }
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            restrictToOwner(temp, "rw-------");
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        files.put(sequence, target);
        counts.put(target, accepted.size());
        size += accepted.size();
        return accepted.size();
    }

    /** The oldest batch, or null when the spool is empty. */
    public synchronized Batch oldest() throws IOException {
        Map.Entry<Long, Path> first = files.firstEntry();
        if (first == null) {
            return null;
        }
        Matcher m = NAME.matcher(first.getValue().getFileName().toString());
        if (!m.matches()) {
            throw new IllegalStateException("unexpected spool file " + first.getValue());
        }
        return new Batch(first.getKey(), m.group(2), readLines(first.getValue()));
    }

    /** Forgets a batch the receiver acknowledged. */
    public synchronized void delete(Batch batch) throws IOException {
        Path path = files.remove(batch.sequence());
        if (path != null) {
            Files.deleteIfExists(path);
            size -= counts.remove(path);
        }
    }

    /** Attendance is personal data: only Openfire's own account may read the spool. */
    private static void restrictToOwner(Path path, String permissions) throws IOException {
        if (Files.getFileStore(path).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(permissions));
        }
    }

    private void syncDirectory() {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Not every platform can fsync a directory; the rename itself is still atomic.
        }
    }

    private static List<String> readLines(Path path) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            if (!line.isEmpty()) {
                lines.add(line);
            }
        }
        return lines;
    }
}
