package org.estafeta.pickup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.queue.Envelope;

/**
 * Files in {@code maildrop/}: committed queue files (docs/queue-file-format.md) whose envelope holds what the
 * submitting user asked for, not yet qualified or rewritten. The client fields are empty but for the protocol
 * {@value #PROTOCOL}; two actions carry the local submission: {@code uid} (the submitting user's numeric ID, as the
 * kernel reported it to the gateway, or 0 for a file root wrote itself) and {@code fullname} ({@code -F}). Only the
 * gateway user and root can create files there (the directory is 0700), so pickup trusts them.
 */
public final class Maildrop {
    /** The protocol recorded for local submission. */
    public static final String PROTOCOL = "LOCAL";
    static final String UID = "uid";
    static final String FULLNAME = "fullname";

    private Maildrop() {
    }

    /** A recipient as sendmail gives it, with its {@code -N} NOTIFY values. */
    public record Recipient(String address, List<String> notifyOn) {
        public Recipient {
            notifyOn = List.copyOf(notifyOn);
        }
    }

    /** The envelope of a maildrop file. */
    public static Envelope envelope(long arrivalMicros, String sender, Map<String, String> params,
            List<Recipient> recipients, long uid, String fullName) {
        List<Envelope.Recipient> rcpts = new ArrayList<>();
        for (Recipient r : recipients) {
            rcpts.add(new Envelope.Recipient(r.address(), r.notifyOn(), Optional.empty(), Envelope.Status.PENDING));
        }
        List<Envelope.Action> actions = new ArrayList<>();
        actions.add(new Envelope.Action(UID, Long.toString(uid)));
        if (!fullName.isEmpty()) {
            actions.add(new Envelope.Action(FULLNAME, fullName));
        }
        return new Envelope(arrivalMicros, sender, params, rcpts, new Envelope.Client("", "", "", PROTOCOL), actions);
    }

    /** The submitting user's ID recorded in a maildrop envelope; empty when the file has none. */
    public static Optional<Long> uid(Envelope e) {
        return action(e, UID).flatMap(v -> {
            try {
                return Optional.of(Long.parseLong(v));
            } catch (NumberFormatException x) {
                return Optional.empty();
            }
        });
    }

    /** The full name recorded in a maildrop envelope, empty when none. */
    public static String fullName(Envelope e) {
        return action(e, FULLNAME).orElse("");
    }

    private static Optional<String> action(Envelope e, String name) {
        return e.actions().stream().filter(a -> a.name().equals(name)).map(Envelope.Action::value).findFirst();
    }

    /** The submission socket under {@code queue_directory} ({@code public/pickup}, as Postfix's pickup fifo). */
    public static Path socket(Path queueDirectory) {
        return queueDirectory.resolve("public").resolve("pickup");
    }
}
