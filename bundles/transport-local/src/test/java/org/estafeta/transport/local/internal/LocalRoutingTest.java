package org.estafeta.transport.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.api.transport.Transport;
import org.estafeta.config.MasterEntry;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * local(8)'s routing parameters: mailbox_transport(_maps), mailbox_command_maps, fallback_transport(_maps) and
 * luser_relay, in local(8)'s order of precedence, with a recording transport standing in for lmtp.
 */
class LocalRoutingTest {
    private static final MessageContent MESSAGE = Fixtures.message("From: ana@example.org\nSubject: hola\n\nfin\n");

    @TempDir
    Path dir;
    Path spool;
    Path home;
    final Fixtures.Context context = new Fixtures.Context();
    final FakeCleanup cleanup = new FakeCleanup();
    /** master.cf: service name to command; the transports by command. */
    final Map<String, String> masterCf = new HashMap<>();
    final Map<String, Transport> transports = new HashMap<>();
    final Recorder lmtp = new Recorder();
    LocalTransport local;

    /** A transport that records its requests and answers as Dovecot's LMTP would. */
    static final class Recorder implements Transport {
        final List<DeliveryRequest> requests = new ArrayList<>();
        final List<PluginContext> contexts = new ArrayList<>();
        Reply reply = new Reply(250, "2.0.0", "");

        @Override
        public List<RecipientResult> deliver(DeliveryRequest request, PluginContext ctx) {
            requests.add(request);
            contexts.add(ctx);
            String r = request.recipients().get(0);
            Reply rp = reply.text().isEmpty() ? new Reply(250, "2.0.0", "<" + r + "> Xyz Saved") : reply;
            Status s = rp.code() < 400 ? Status.DELIVERED : rp.code() < 500 ? Status.DEFERRED : Status.BOUNCED;
            return List.of(new RecipientResult(r, s, rp, "127.0.0.1[127.0.0.1]:24"));
        }

        DeliveryRequest single() {
            assertEquals(1, requests.size(), requests.toString());
            return requests.get(0);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        Fixtures.open(dir);
        spool = Fixtures.open(Files.createDirectory(dir.resolve("spool")));
        home = Files.createDirectory(dir.resolve("luis"));
        Mailbox.chown(home, new Mailbox.Owner(Fixtures.uid(), Fixtures.gid()));
        masterCf.put("lmtp", "lmtp");
        masterCf.put("dovecot", "lmtp");
        masterCf.put("local", "local");
        transports.put("lmtp", lmtp);
        Agents agents = service -> {
            String command = masterCf.get(service);
            if (command == null) {
                return Optional.empty();
            }
            MasterEntry e = new MasterEntry(service, "unix", "-", "-", "n", "-", "-", command,
                    Map.of("lmtp_lhlo_name", "gw.example.com"), List.of(), "master.cf", 1);
            return Optional.of(new Agents.Agent(e, transports.get(command), new Fixtures.Context().with("x", service),
                    () -> { }));
        };
        local = new LocalTransport(new Fixtures.Tables(), cleanup, Fixtures.accounts(Map.of("luis", home)), agents);
        transports.put("local", local);
        context.with("myhostname", "host.example.com").with("myorigin", "host.example.com")
                .with("mydestination", "host.example.com, localhost").with("mail_spool_directory", spool.toString())
                .with("alias_maps", "").with("message_size_limit", "10240000").with("recipient_delimiter", "+");
    }

    private RecipientResult deliver(String rcpt) {
        List<RecipientResult> r = local.deliver(Fixtures.request("local", "ana@example.org", MESSAGE, rcpt), context);
        assertEquals(1, r.size());
        assertEquals(rcpt, r.get(0).recipient());
        return r.get(0);
    }

    private static void assertResult(RecipientResult r, Status status, String dsn, String text, String relay) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(dsn, r.reply().enhancedStatus(), r.toString());
        assertEquals(text, r.reply().text());
        assertEquals(relay, r.relay(), r.toString());
    }

    private Path table(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private boolean logged(String line) {
        return context.lines.contains(line);
    }

    // ---------------------------------------------------------------- mailbox_transport(_maps)

    @Test
    void mailboxTransportPassesTheRecipientWithItsNexthopAndKeepsTheAgentsReplyAndRelay() {
        context.with("mailbox_transport", "lmtp:inet:127.0.0.1:24");
        assertResult(deliver("Luis@host.example.com"), Status.DELIVERED, "2.0.0",
                "<Luis@host.example.com> Xyz Saved", "127.0.0.1[127.0.0.1]:24");
        DeliveryRequest r = lmtp.single();
        assertEquals("inet:127.0.0.1:24", r.nexthop());
        assertEquals(List.of("Luis@host.example.com"), r.recipients());
        assertEquals("lmtp", r.service());
        assertEquals(Map.of("lmtp_lhlo_name", "gw.example.com"), r.options(), "the entry's -o overrides");
        assertEquals("4Xyz123", r.envelope().queueId());
        assertEquals("ana@example.org", r.envelope().sender());
        assertEquals(Optional.of("lmtp"), lmtp.contexts.get(0).parameter("x"), "the agent's own context");
        assertTrue(logged("INFO 4Xyz123: passing <Luis@host.example.com> to transport=lmtp"), context.lines.toString());
        assertTrue(Files.notExists(spool.resolve("luis")), "nothing written by local");
    }

    @Test
    void mailboxTransportAppliesToNamesThatAreNotInThePasswdDatabase() {
        context.with("mailbox_transport", "dovecot").with("fallback_transport", "error").with("luser_relay", "luis");
        assertResult(deliver("nadie@host.example.com"), Status.DELIVERED, "2.0.0",
                "<nadie@host.example.com> Xyz Saved", "127.0.0.1[127.0.0.1]:24");
        assertEquals("host.example.com", lmtp.single().nexthop(), "no next hop given: the request's own");
        assertEquals("dovecot", lmtp.single().service());
    }

    @Test
    void theAgentsBounceAndDeferralAreTheRecipients() {
        context.with("mailbox_transport", "lmtp:inet:127.0.0.1:24");
        lmtp.reply = new Reply(550, "5.1.1", "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <nadie@host.example.com> "
                + "User doesn't exist: nadie@host.example.com (in reply to RCPT TO command)");
        RecipientResult r = deliver("nadie@host.example.com");
        assertResult(r, Status.BOUNCED, "5.1.1", lmtp.reply.text(), "127.0.0.1[127.0.0.1]:24");
        assertEquals(550, r.reply().code());
        lmtp.reply = new Reply(451, "4.3.0", "lost connection with 127.0.0.1[127.0.0.1] while sending end of data");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", lmtp.reply.text(),
                "127.0.0.1[127.0.0.1]:24");
    }

    @Test
    void mailboxTransportMapsIsAskedForTheUserNameFirst() throws Exception {
        Path map = table("mbt", "luis dovecot:inet:127.0.0.2:24\n");
        context.with("mailbox_transport_maps", "texthash:" + map).with("mailbox_transport", "lmtp:unix:private/x");
        deliver("luis+ext@host.example.com");
        deliver("maria@host.example.com");
        assertEquals(2, lmtp.requests.size());
        assertEquals("dovecot", lmtp.requests.get(0).service());
        assertEquals("inet:127.0.0.2:24", lmtp.requests.get(0).nexthop());
        assertEquals(List.of("luis+ext@host.example.com"), lmtp.requests.get(0).recipients(), "the address as it is");
        assertEquals("lmtp", lmtp.requests.get(1).service());
        assertEquals("unix:private/x", lmtp.requests.get(1).nexthop());
    }

    @Test
    void aliasesComeFirstAndTheExpandedAddressIsPassed() throws Exception {
        context.with("alias_maps", "texthash:" + table("aliases", "info luis\n"))
                .with("mailbox_transport", "lmtp:inet:127.0.0.1:24");
        assertResult(deliver("info@host.example.com"), Status.DELIVERED, "2.0.0",
                "<luis@host.example.com> Xyz Saved", "127.0.0.1[127.0.0.1]:24");
        assertEquals(List.of("luis@host.example.com"), lmtp.single().recipients());
    }

    @Test
    void dotForwardComesBeforeMailboxTransport() throws Exception {
        Path fwd = home.resolve(".forward");
        Files.writeString(fwd, "luis@remote.example\n");
        Mailbox.chown(fwd, new Mailbox.Owner(Fixtures.uid(), Fixtures.gid()));
        context.with("mailbox_transport", "lmtp:inet:127.0.0.1:24");
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0", "forwarded as 4F000000001", "local");
        assertTrue(lmtp.requests.isEmpty());
    }

    @Test
    void dsnParametersOfTheRecipientGoAlong() {
        context.with("mailbox_transport", "lmtp");
        DeliveryRequest base = Fixtures.request("local", "ana@example.org", MESSAGE, "info@host.example.com");
        DeliveryRequest req = new DeliveryRequest(base.nexthop(), base.envelope(), base.recipients(), base.content(),
                Map.of(), "local", List.of(), Map.of("RET", "HDRS"),
                Map.of("info@host.example.com", Map.of("NOTIFY", "SUCCESS,FAILURE")));
        local.deliver(req, context);
        assertEquals(Map.of("info@host.example.com", Map.of("NOTIFY", "SUCCESS,FAILURE")),
                lmtp.single().recipientParameters());
        assertEquals(Map.of("RET", "HDRS"), lmtp.single().mailParameters());
    }

    // ---------------------------------------------------------------- failures of the pass itself

    @Test
    void aServiceThatMasterCfDoesNotDefineDefersTheRecipient() {
        context.with("mailbox_transport", "dovecot-lmtp:unix:private/dovecot-lmtp");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "mail transport unavailable", "none");
        assertTrue(logged("WARNING connect to transport private/dovecot-lmtp: No such file or directory "
                + "(no master.cf entry for dovecot-lmtp)"), context.lines.toString());
    }

    @Test
    void aServiceWhoseBundleIsAbsentDefersTheRecipient() {
        masterCf.put("cyrus", "pipe");
        context.with("fallback_transport", "cyrus");
        assertResult(deliver("nadie@host.example.com"), Status.DEFERRED, "4.3.0", "mail transport unavailable", "none");
        assertTrue(logged("WARNING 4Xyz123: transport cyrus unavailable: no bundle registers estafeta.transport=pipe"),
                context.lines.toString());
    }

    @Test
    void anAgentThatThrowsOrSaysNothingDefersTheRecipient() {
        transports.put("lmtp", (request, ctx) -> {
            throw new IllegalStateException("boom");
        });
        context.with("mailbox_transport", "lmtp");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "unknown mail transport error",
                "none");
        transports.put("lmtp", (request, ctx) -> List.of());
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "unknown mail transport error",
                "none");
    }

    @Test
    void aPassBackToLocalIsAConfigurationErrorNotALoop() {
        context.with("mailbox_transport", "local");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.5", "mail system configuration error",
                "none");
    }

    @Test
    void aMissingTransportNameIsFatal() {
        context.with("mailbox_transport", ":inet:127.0.0.1:24");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "unknown mail transport error",
                "none");
        assertTrue(logged("INFO fatal: missing transport name in \":inet:127.0.0.1:24\""), context.lines.toString());
    }

    @Test
    void aFailedMapLookupDefersWithPostfixsWarning() {
        context.with("mailbox_transport_maps", "nosuch:/etc/x").with("mailbox_transport", "lmtp");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "table lookup failure", "local");
        assertTrue(logged("WARNING nosuch:/etc/x lookup error for \"luis\""), context.lines.toString());
        assertTrue(lmtp.requests.isEmpty());
    }

    @Test
    void anEmptyMapValueIsALookupFailure() throws Exception {
        context.with("fallback_transport_maps", "inline:{ nadie= }").with("luser_relay", "luis");
        assertResult(deliver("nadie@host.example.com"), Status.DEFERRED, "4.3.0", "table lookup failure", "local");
        assertTrue(logged("WARNING fallback_transport_maps lookup of nadie returns an empty string result"),
                context.lines.toString());
        assertTrue(logged("WARNING fallback_transport_maps should return NO RESULT in case of NOT FOUND"),
                context.lines.toString());
    }

    // ---------------------------------------------------------------- mailbox_command_maps

    @Test
    void mailboxCommandMapsBeatsMailboxCommand() throws Exception {
        Path out = dir.resolve("out");
        Path cmd = Fixtures.script(dir, "deliver.sh", "cat > " + out + "\n");
        context.with("mailbox_command_maps", "texthash:" + table("mbc", "luis " + cmd + "\n"))
                .with("mailbox_command", "/bin/false");
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to command: " + cmd,
                "local");
        assertTrue(Files.readString(out).contains("Subject: hola"));
    }

    // ---------------------------------------------------------------- unknown users

    @Test
    void fallbackTransportIsForNamesThatAreNeitherAliasesNorUsers() throws Exception {
        context.with("fallback_transport", "lmtp:inet:127.0.0.1:24").with("luser_relay", "luis");
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox", "local");
        assertTrue(lmtp.requests.isEmpty());
        assertResult(deliver("nadie@host.example.com"), Status.DELIVERED, "2.0.0",
                "<nadie@host.example.com> Xyz Saved", "127.0.0.1[127.0.0.1]:24");
        assertEquals(List.of("nadie@host.example.com"), lmtp.single().recipients());
    }

    @Test
    void fallbackTransportMapsBeatsFallbackTransport() throws Exception {
        context.with("fallback_transport_maps", "texthash:" + table("fbt", "nadie dovecot:[127.0.0.3]\n"))
                .with("fallback_transport", "lmtp");
        deliver("nadie+x@host.example.com");
        deliver("otro@host.example.com");
        assertEquals("dovecot", lmtp.requests.get(0).service());
        assertEquals("[127.0.0.3]", lmtp.requests.get(0).nexthop());
        assertEquals("lmtp", lmtp.requests.get(1).service());
    }

    @Test
    void luserRelayExpandsPostfixsNamesAndForwardsARemoteAddress() {
        context.with("luser_relay", "$user${extension?-$extension}.$local@catch.$domain");
        RecipientResult r = deliver("Nadie+Box@Host.Example.com");
        assertResult(r, Status.DELIVERED, "2.0.0", "forwarded as 4F000000001", "local");
        FakeCleanup.Message m = cleanup.single();
        assertEquals(List.of("nadie-box.nadie+box@catch.host.example.com"),
                m.envelope().recipients().stream().map(x -> x.address()).toList());
        assertTrue(m.text().startsWith("Delivered-To: nadie+box@host.example.com\r\n"), m.text());
    }

    @Test
    void luserRelayToALocalNameIsDeliveredThere() throws Exception {
        context.with("luser_relay", "luis");
        assertResult(deliver("nadie@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox", "local");
        String mbox = Files.readString(spool.resolve("luis"));
        assertTrue(mbox.contains("X-Original-To: nadie@host.example.com\n"), mbox);
        assertTrue(mbox.contains("Delivered-To: luis@host.example.com\n"), mbox);
    }

    @Test
    void luserRelayThatNamesTheRecipientItselfBounces() {
        context.with("luser_relay", "$user");
        assertResult(deliver("nadie@host.example.com"), Status.BOUNCED, "5.1.1", "unknown user: \"nadie\"", "local");
        assertResult(deliver("Nadie@host.example.com"), Status.BOUNCED, "5.1.1", "unknown user: \"nadie\"", "local");
        assertTrue(cleanup.messages().isEmpty());
    }

    @Test
    void luserRelayIsNotUsedForAnAliasOrAUser() throws Exception {
        context.with("alias_maps", "texthash:" + table("aliases", "info luis\n")).with("luser_relay", "x@catch.example");
        assertResult(deliver("info@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox", "local");
        assertTrue(cleanup.messages().isEmpty());
    }

    @Test
    void withoutLuserRelayPostmasterIsDiscardedAndOthersBounce() {
        assertResult(deliver("postmaster@host.example.com"), Status.DELIVERED, "2.0.0", "discarded", "local");
        assertTrue(logged("WARNING required alias not found: postmaster"), context.lines.toString());
        assertResult(deliver("nadie@host.example.com"), Status.BOUNCED, "5.1.1", "unknown user: \"nadie\"", "local");
    }
}
