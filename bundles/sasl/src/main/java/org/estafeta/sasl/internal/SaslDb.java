package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The built-in back end's password file ({@code estafeta_sasldb_path}), one user a line:
 * <pre>
 * user@realm:SCRAM-SHA-256:ITERATIONS:SALT:STOREDKEY:SERVERKEY[:CRAM-MD5:INNER:OUTER]
 * </pre>
 * with the binary fields in base64 (RFC 4648, with padding). Empty lines and lines starting with {@code #} are
 * ignored. Every user has a SCRAM-SHA-256 verifier (PLAIN and LOGIN check passwords against it); the CRAM-MD5
 * states are there only for users whose operator asked for CRAM-MD5. See {@code docs/sasl.md}.
 *
 * <p>An instance is an immutable snapshot, safe to share between threads. Reading refuses a malformed file
 * outright, naming the file and line ({@link SaslDbFormatException}); nothing is skipped silently.
 */
public final class SaslDb {
    public static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    public static final String CRAM_MD5 = "CRAM-MD5";
    static final String HEADER = "# estafeta sasldb: user:SCRAM-SHA-256:iterations:salt:StoredKey:ServerKey"
            + "[:CRAM-MD5:inner:outer]\n# written by estafeta saslpasswd; do not edit while it runs. See docs/sasl.md.\n";

    /**
     * One user's secrets.
     *
     * @param user the name as clients give it, with {@code @realm} when the user belongs to one
     * @param scram the SCRAM-SHA-256 verifier, always present
     * @param cramMd5 the CRAM-MD5 states, or {@code null} when CRAM-MD5 is not enabled for the user
     */
    public record Entry(String user, ScramSecret scram, CramMd5Secret cramMd5) {
        public Entry {
            String why = invalidUserName(user);
            if (why != null) {
                throw new IllegalArgumentException(why);
            }
            java.util.Objects.requireNonNull(scram, "scram");
        }

        public Optional<CramMd5Secret> cram() {
            return Optional.ofNullable(cramMd5);
        }
    }

    private final Map<String, Entry> entries;

    private SaslDb(Map<String, Entry> entries) {
        this.entries = Collections.unmodifiableMap(entries);
    }

    public static SaslDb empty() {
        return new SaslDb(new LinkedHashMap<>());
    }

    /** Why {@code user} cannot be a name in the file, or {@code null} when it can. */
    public static String invalidUserName(String user) {
        if (user == null || user.isEmpty()) {
            return "empty user name";
        }
        if (user.startsWith("#")) {
            return "a user name cannot start with #";
        }
        for (int i = 0; i < user.length(); i++) {
            char c = user.charAt(i);
            if (c == ':' || Character.isWhitespace(c) || Character.isISOControl(c)) {
                return "a user name cannot contain a colon, white space or control characters";
            }
        }
        return null;
    }

    public Optional<Entry> get(String user) {
        return Optional.ofNullable(entries.get(user));
    }

    /** The entries in file order. */
    public Collection<Entry> entries() {
        return entries.values();
    }

    public int size() {
        return entries.size();
    }

    /** A copy with {@code entry} added, or replacing the user's old entry in place. */
    public SaslDb with(Entry entry) {
        Map<String, Entry> copy = new LinkedHashMap<>(entries);
        copy.put(entry.user(), entry);
        return new SaslDb(copy);
    }

    /** A copy without {@code user}. */
    public SaslDb without(String user) {
        Map<String, Entry> copy = new LinkedHashMap<>(entries);
        copy.remove(user);
        return new SaslDb(copy);
    }

    /** Reads and parses {@code file}; {@link NoSuchFileException} when it does not exist. */
    public static SaslDb read(Path file) throws IOException {
        return parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
    }

    /** Parses the text of a file; {@code name} goes into error messages. */
    public static SaslDb parse(String name, String text) throws SaslDbFormatException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        List<String> lines = text.lines().toList();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Entry e = parseLine(name, n + 1, line);
            if (entries.putIfAbsent(e.user(), e) != null) {
                throw new SaslDbFormatException(name, n + 1, "duplicate entry for " + e.user());
            }
        }
        return new SaslDb(entries);
    }

    private static Entry parseLine(String name, int lineNo, String line) throws SaslDbFormatException {
        String[] f = line.split(":", -1);
        String user = f[0];
        String bad = invalidUserName(user);
        if (bad != null) {
            throw new SaslDbFormatException(name, lineNo, bad);
        }
        ScramSecret scram = null;
        CramMd5Secret cram = null;
        int i = 1;
        while (i < f.length) {
            String scheme = f[i];
            switch (scheme) {
                case SCRAM_SHA_256 -> {
                    need(name, lineNo, f, i, 4, scheme, scram != null);
                    int iterations;
                    try {
                        iterations = Integer.parseInt(f[i + 1]);
                    } catch (NumberFormatException e) {
                        throw new SaslDbFormatException(name, lineNo, "bad " + scheme + " iteration count: " + f[i + 1]);
                    }
                    try {
                        scram = new ScramSecret(iterations, b64(name, lineNo, f[i + 2], scheme + " salt"),
                                b64(name, lineNo, f[i + 3], scheme + " StoredKey"),
                                b64(name, lineNo, f[i + 4], scheme + " ServerKey"));
                    } catch (IllegalArgumentException e) {
                        throw new SaslDbFormatException(name, lineNo, scheme + ": " + e.getMessage());
                    }
                    i += 5;
                }
                case CRAM_MD5 -> {
                    need(name, lineNo, f, i, 2, scheme, cram != null);
                    try {
                        cram = new CramMd5Secret(b64(name, lineNo, f[i + 1], scheme + " inner state"),
                                b64(name, lineNo, f[i + 2], scheme + " outer state"));
                    } catch (IllegalArgumentException e) {
                        throw new SaslDbFormatException(name, lineNo, scheme + ": " + e.getMessage());
                    }
                    i += 3;
                }
                default -> throw new SaslDbFormatException(name, lineNo,
                        scheme.isEmpty() ? "empty field where a scheme name belongs" : "unknown scheme " + scheme);
            }
        }
        if (scram == null) {
            throw new SaslDbFormatException(name, lineNo, "no " + SCRAM_SHA_256 + " verifier for " + user);
        }
        return new Entry(user, scram, cram);
    }

    private static void need(String name, int lineNo, String[] f, int i, int fields, String scheme, boolean seen)
            throws SaslDbFormatException {
        if (seen) {
            throw new SaslDbFormatException(name, lineNo, scheme + " appears twice");
        }
        if (i + fields >= f.length) {
            throw new SaslDbFormatException(name, lineNo, scheme + " needs " + fields + " fields");
        }
    }

    private static byte[] b64(String name, int lineNo, String field, String what) throws SaslDbFormatException {
        try {
            return Base64.getDecoder().decode(field);
        } catch (IllegalArgumentException e) {
            throw new SaslDbFormatException(name, lineNo, "bad base64 in " + what);
        }
    }

    /** The file's text: a comment header, then one line per user in order. */
    public String format() {
        StringBuilder sb = new StringBuilder(HEADER);
        Base64.Encoder b64 = Base64.getEncoder();
        for (Entry e : entries.values()) {
            ScramSecret s = e.scram();
            sb.append(e.user()).append(':').append(SCRAM_SHA_256).append(':').append(s.iterations()).append(':')
                    .append(b64.encodeToString(s.salt())).append(':').append(b64.encodeToString(s.storedKey()))
                    .append(':').append(b64.encodeToString(s.serverKey()));
            if (e.cramMd5() != null) {
                sb.append(':').append(CRAM_MD5).append(':').append(b64.encodeToString(e.cramMd5().inner()))
                        .append(':').append(b64.encodeToString(e.cramMd5().outer()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * Replaces {@code file} with this content atomically: a temporary file in the same directory, written and
     * forced to disk, renamed over {@code file}, and the directory forced. A new file gets mode 0600; a file that
     * exists keeps its permissions and group (an operator's 0640 for a group keeps working).
     */
    public void write(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Set<PosixFilePermission> perms = PosixFilePermissions.fromString("rw-------");
        GroupPrincipal group = null;
        try {
            PosixFileAttributes old = Files.readAttributes(abs, PosixFileAttributes.class);
            perms = old.permissions();
            group = old.group();
        } catch (NoSuchFileException absent) {
            // a new file: 0600
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(format().getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
            if (group != null) {
                try {
                    view.setGroup(group);
                } catch (IOException | SecurityException notAllowed) {
                    // not the owner's group and not root: the file keeps the caller's group
                }
            }
            view.setPermissions(perms);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(abs + ": cannot replace the file atomically: " + e.getMessage(), e);
            }
            done = true;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException unsupported) {
                // some file systems cannot sync a directory; the rename is done either way
            }
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
