package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.service.component.annotations.Component;

/**
 * The password files of the built-in mechanisms, read on first use and read again when a file's inode, mtime or
 * size changes: one {@code stat} per exchange, so that {@code saslpasswd} takes effect at the next AUTH without a
 * reload. A file that cannot be read or parsed fails every exchange with an {@link IOException} naming the file
 * (and line), which smtpd answers with {@code 454 4.7.0}; it is never taken for an empty file. A file readable by
 * other users is logged once as a warning.
 *
 * <p>Thread-safe; a re-read happens in the calling thread (two threads may both read a changed file once).
 */
@Component(service = SaslDbFiles.class)
public final class SaslDbFiles {
    /** main.cf parameter naming the file (registered with the default {@code $config_directory/sasldb}). */
    public static final String PATH_PARAMETER = "estafeta_sasldb_path";

    private record Loaded(Object fileKey, FileTime mtime, long size, SaslDb db, IOException error) {
        boolean same(PosixFileAttributes a) {
            return Objects.equals(fileKey, a.fileKey()) && mtime.equals(a.lastModifiedTime()) && size == a.size();
        }
    }

    private final ConcurrentMap<Path, Loaded> cache = new ConcurrentHashMap<>();
    private final Set<Path> warnedReadable = ConcurrentHashMap.newKeySet();

    /** The current content of the file {@code context} names. */
    public SaslDb current(PluginContext context) throws IOException {
        String name = context.parameter(PATH_PARAMETER).map(String::trim).orElse("");
        if (name.isEmpty()) {
            throw new IOException(PATH_PARAMETER + " is not set");
        }
        Path path = Path.of(name);
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(path, PosixFileAttributes.class);
        } catch (IOException e) {
            throw new IOException(PATH_PARAMETER + ": " + path + ": " + reason(e), e);
        }
        if (a.permissions().contains(PosixFilePermission.OTHERS_READ) && warnedReadable.add(path)) {
            context.logger().log(System.Logger.Level.WARNING, PATH_PARAMETER + ": " + path
                    + ": file is readable by other users, who can guess its passwords offline (and use its"
                    + " CRAM-MD5 secrets as they are); chmod o-r " + path);
        }
        Loaded l = cache.get(path);
        if (l == null || !l.same(a)) {
            l = load(path, a);
            cache.put(path, l);
            if (l.error == null) {
                context.logger().log(System.Logger.Level.INFO, path + ": read " + l.db.size() + " users");
            }
        }
        if (l.error != null) {
            throw new IOException(l.error.getMessage(), l.error);
        }
        return l.db;
    }

    private static Loaded load(Path path, PosixFileAttributes a) {
        try {
            return new Loaded(a.fileKey(), a.lastModifiedTime(), a.size(), SaslDb.read(path), null);
        } catch (SaslDbFormatException e) {
            return new Loaded(a.fileKey(), a.lastModifiedTime(), a.size(), null, e);
        } catch (IOException e) {
            return new Loaded(a.fileKey(), a.lastModifiedTime(), a.size(), null,
                    new IOException(PATH_PARAMETER + ": " + path + ": " + reason(e), e));
        }
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
