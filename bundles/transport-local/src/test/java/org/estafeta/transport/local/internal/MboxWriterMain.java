package org.estafeta.transport.local.internal;

import java.nio.file.Path;
import java.time.ZonedDateTime;

/** Run in a second JVM by {@link MailboxTest}: appends {@code n} messages tagged {@code tag} to the mbox {@code path}. */
public final class MboxWriterMain {
    private MboxWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        String tag = args[1];
        int n = Integer.parseInt(args[2]);
        int uid = Integer.parseInt(args[3]);
        for (int i = 0; i < n; i++) {
            Outcome o = Mailbox.appendMbox(path, new Mailbox.Owner(uid, uid), new MessageCopy("s@example.org", "", "",
                    ZonedDateTime.now()), Fixtures.message(MailboxTest.body(tag, i)), 0, true, "5.2.0");
            if (o.status() != org.estafeta.api.transport.RecipientResult.Status.DELIVERED) {
                System.err.println(o);
                System.exit(1);
            }
        }
    }
}
