package org.estafeta.transport.pipe.internal;

import org.estafeta.testing.BytesContent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.process.support.UnixAccount;

/** Shell scripts written into a test's directory, the accounts they run as, and requests that run them. */
final class Scripts {
    private Scripts() {
    }

    static boolean root() {
        try {
            return UnixAccount.currentUid() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The user= of the tests: nobody when we are root (Postfix refuses root), else whoever runs the tests. */
    static String user() {
        return root() ? "nobody" : System.getProperty("user.name");
    }

    /** Makes the directory usable by the test user (JUnit creates it 0700). */
    static Path open(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /**
     * A script that records its arguments (one per line), environment, uid, gid and working directory into
     * {@code out.argv}, {@code out.env}, {@code out.uid}, {@code out.gid}, {@code out.pwd}, its input into
     * {@code out.stdin}, prints {@code output} and exits with {@code status}.
     */
    static Path recorder(Path dir, String output, int status) throws IOException {
        String out = dir.resolve("out").toString();
        return script(dir, "record.sh", ""
                + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + out + ".argv\n"
                + "env > " + out + ".env\n"
                + "id -u > " + out + ".uid\n"
                + "id -g > " + out + ".gid\n"
                + "pwd > " + out + ".pwd\n"
                + "cat > " + out + ".stdin\n"
                + "printf '%s' '" + output + "'\n"
                + "exit " + status + "\n");
    }

    static String read(Path dir, String name) throws IOException {
        return Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
    }

    static DeliveryRequest request(String service, String arguments, String sender, List<String> recipients,
            BytesContent content) {
        ClientInfo client = new ClientInfo("192.0.2.7", "mail.example.org", "helo.example.org", false,
                Optional.of("ana"));
        Envelope env = new Envelope("4Xyz123", sender, recipients, client);
        return new DeliveryRequest("Example.COM", env, recipients, content, Map.of(), service,
                List.of(arguments.split(" ")), Map.of(), Map.of());
    }
}
