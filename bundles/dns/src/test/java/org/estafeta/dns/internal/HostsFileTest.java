package org.estafeta.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostsFileTest {
    @TempDir
    Path dir;

    @Test
    void namesAndAddressesAsTheCLibraryReadsThem() throws Exception {
        Path f = dir.resolve("hosts");
        Files.writeString(f, String.join("\n",
                "# comment",
                "127.0.0.1 localhost",
                "127.0.0.1 Runsc vm   # trailing comment",
                "::1 localhost ip6-localhost",
                "192.0.2.7 mail.Example.org mail",
                "not-an-address name",
                ""));
        HostsFile h = new HostsFile(f);
        assertEquals(List.of("localhost", "runsc", "vm"), h.names(InetAddress.getByName("127.0.0.1")));
        assertEquals(List.of(InetAddress.getByName("127.0.0.1")), h.addresses("VM.", false));
        assertEquals(List.of(InetAddress.getByName("::1")), h.addresses("localhost", true));
        assertEquals(List.of(InetAddress.getByName("192.0.2.7")), h.addresses("mail.example.org", false));
        assertEquals(List.of(), h.addresses("name", false));
        assertEquals(List.of(), h.names(InetAddress.getByName("192.0.2.8")));
        assertEquals(List.of(), new HostsFile(dir.resolve("missing")).names(InetAddress.getByName("127.0.0.1")));
    }
}
