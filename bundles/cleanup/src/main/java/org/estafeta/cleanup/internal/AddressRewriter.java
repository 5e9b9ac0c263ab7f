package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.queue.Envelope;
import org.estafeta.tables.TableService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cleanup's address rewriting for one message, as Postfix's cleanup does it (cleanup_addr.c, cleanup_map11.c,
 * cleanup_map1n.c, cleanup_masquerade.c, cleanup_message.c):
 * <ol>
 * <li>every address is first made complete in the "local" context: a bare {@code user} gets {@code @$myorigin}, a
 * dotless domain {@code .$mydomain} (append_dot_mydomain), source routes, {@code site!user} and {@code user%domain}
 * are undone;</li>
 * <li>{@code sender_canonical_maps} (senders) or {@code recipient_canonical_maps} (recipients), then
 * {@code canonical_maps}, each for the address classes of its {@code *_classes} parameter; one-to-one, at most 10
 * nested lookups, an address that maps to itself ends the nesting;</li>
 * <li>masquerading ({@code masquerade_domains}, {@code masquerade_exceptions}) for {@code masquerade_classes};</li>
 * <li>for envelope recipients only, {@code virtual_alias_maps}: recursive one-to-many expansion within
 * {@code virtual_alias_expansion_limit} addresses and {@code virtual_alias_recursion_limit} levels; an address that
 * expands to itself is not expanded again; a loop runs into the recursion limit.</li>
 * </ol>
 * Envelope addresses are rewritten when the message is opened, before its envelope is written; any table failure
 * or limit is an {@link IOException} so that the client is told to try again and nothing is queued. Header
 * addresses are rewritten as the headers stream, only when the message is in a header rewriting context: local
 * submission, a client in {@code local_header_rewrite_clients}, or any client when
 * {@code remote_header_rewrite_domain} is set (as in Postfix 2.2 and later).
 *
 * <p>Each recipient that rewriting changed and that came without a DSN ORCPT gets {@code rfc822;<address>}, the
 * address as received (completed), as its ORCPT: the queue file keeps one original recipient per recipient, and
 * Postfix's DSN original recipient is this one.
 */
final class AddressRewriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("cleanup");

    /** Postfix's address classes of the {@code *_classes} parameters. */
    enum AddressClass {
        ENVELOPE_SENDER, ENVELOPE_RECIPIENT, HEADER_SENDER, HEADER_RECIPIENT
    }

    /** Postfix's nesting limit of one-to-one maps (cleanup_map11.c MAX_RECURSION). */
    private static final int MAX_NESTING = 10;

    private final Settings settings;
    private final AddressTables tables;
    /** The header rewriting context: true local, false remote, null none. */
    private final Boolean headerLocal;
    /**
     * Whether the mappings apply (canonical maps, masquerading, virtual aliases, the bcc maps): false under
     * {@code receive_override_options = no_address_mappings}, where addresses are only made complete.
     */
    private final boolean mappings;

    private AddressRewriter(Settings settings, AddressTables tables, Boolean headerLocal, boolean mappings) {
        this.settings = settings;
        this.tables = tables;
        this.headerLocal = headerLocal;
        this.mappings = mappings;
    }

    /** The rewriting of one message from {@code submission}; tables open on first use. */
    static AddressRewriter open(ConfigSnapshot config, TableService service, Submission submission) {
        return open(config, service, submission, true);
    }

    /**
     * As {@link #open(ConfigSnapshot, TableService, Submission)}; with {@code mappings} false (Postfix's
     * {@code no_address_mappings}) no table is consulted: addresses are only made complete.
     */
    static AddressRewriter open(ConfigSnapshot config, TableService service, Submission submission,
            boolean mappings) {
        Settings settings = new Settings(config);
        Boolean context = submission.local().isPresent() || settings.localHeaderClient(submission) ? Boolean.TRUE
                : settings.remoteDomain().isEmpty() ? null : Boolean.FALSE;
        return new AddressRewriter(settings, new AddressTables(service, settings), context, mappings);
    }

    /** The envelope sender to queue; the null sender stays null, so does {@code MAILER-DAEMON@$myorigin}. */
    String sender(String sender) throws IOException {
        if (sender.isEmpty()) {
            return sender;
        }
        String a = settings.canonicalise(sender, true);
        if (a.equalsIgnoreCase(settings.canonicalise("MAILER-DAEMON", true))) {
            return "";
        }
        return oneToOne(a, AddressClass.ENVELOPE_SENDER);
    }

    /**
     * The envelope recipients to queue: each completed, mapped, masqueraded and expanded through
     * {@code virtual_alias_maps}; duplicates (same address, NOTIFY and ORCPT) are queued once.
     */
    List<Envelope.Recipient> recipients(List<Submission.Recipient> received) throws IOException {
        List<Envelope.Recipient> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Submission.Recipient r : received) {
            String clean = settings.canonicalise(r.address(), true);
            String mapped = oneToOne(clean, AddressClass.ENVELOPE_RECIPIENT);
            List<String> expanded = !mappings || settings.tables("virtual_alias_maps").isEmpty() ? List.of(mapped)
                    : expand(mapped);
            for (String a : expanded) {
                Optional<String> orcpt = r.originalRecipient().isPresent() || a.equalsIgnoreCase(clean)
                        ? r.originalRecipient() : Optional.of("rfc822;" + clean);
                String key = orcpt.orElse("") + "\n" + r.notifyOn() + "\n" + a.toLowerCase(Locale.ROOT);
                if (seen.add(key)) {
                    out.add(new Envelope.Recipient(a, r.notifyOn(), orcpt, Envelope.Status.PENDING));
                }
            }
        }
        return out;
    }

    /**
     * {@code always_bcc}, {@code sender_bcc_maps} (by the queued sender) and {@code recipient_bcc_maps} (by each queued
     * recipient): the blind copies to add, each rewritten and expanded as any recipient, and added as Postfix 2.3+
     * does, with {@code NOTIFY=NEVER} (nobody hears of a failed blind copy). Addresses already queued are not added
     * twice.
     */
    List<Envelope.Recipient> blindCopies(String sender, List<Envelope.Recipient> queued) throws IOException {
        if (!mappings) {
            return List.of(); // no_address_mappings turns automatic BCC recipients off too
        }
        List<String> bcc = new ArrayList<>();
        String always = settings.config.get("always_bcc").map(String::strip).orElse("");
        if (!always.isEmpty()) {
            bcc.add(always);
        }
        if (!sender.isEmpty() && !settings.tables("sender_bcc_maps").isEmpty()) {
            List<String> r = tables.map("sender_bcc_maps", sender, false);
            if (r != null && !r.isEmpty()) {
                bcc.add(r.get(0));
            }
        }
        if (!settings.tables("recipient_bcc_maps").isEmpty()) {
            for (Envelope.Recipient q : queued) {
                List<String> r = tables.map("recipient_bcc_maps", q.address(), false);
                if (r != null && !r.isEmpty()) {
                    bcc.add(r.get(0));
                }
            }
        }
        List<Envelope.Recipient> out = new ArrayList<>();
        Set<String> have = new HashSet<>();
        queued.forEach(q -> have.add(q.address().toLowerCase(Locale.ROOT)));
        for (String b : bcc) {
            for (Envelope.Recipient r : recipients(List.of(new Submission.Recipient(b, List.of("NEVER"),
                    Optional.empty())))) {
                if (have.add(r.address().toLowerCase(Locale.ROOT))) {
                    out.add(new Envelope.Recipient(r.address(), r.notifyOn(), Optional.empty(), r.status()));
                }
            }
        }
        return out;
    }

    /**
     * The recipients a header/body checks {@code BCC} action adds, as Postfix's cleanup_addr_bcc() does: each address
     * completed, mapped (recipient canonical maps, masquerading) and expanded (virtual aliases) unless
     * {@code no_address_mappings}, queued with {@code NOTIFY=NEVER} and no ORCPT; one that is already queued with the
     * same NOTIFY and ORCPT, or named twice, is queued once.
     */
    List<Envelope.Recipient> headerBlindCopies(List<String> addresses, List<Envelope.Recipient> queued)
            throws IOException {
        Set<String> have = new HashSet<>();
        for (Envelope.Recipient q : queued) {
            if (q.notifyOn().equals(List.of("NEVER")) && q.originalRecipient().isEmpty()) {
                have.add(q.address().toLowerCase(Locale.ROOT));
            }
        }
        List<Envelope.Recipient> out = new ArrayList<>();
        for (String b : addresses) {
            for (Envelope.Recipient r : recipients(List.of(new Submission.Recipient(b, List.of("NEVER"),
                    Optional.empty())))) {
                if (have.add(r.address().toLowerCase(Locale.ROOT))) {
                    out.add(new Envelope.Recipient(r.address(), r.notifyOn(), Optional.empty(), r.status()));
                }
            }
        }
        return out;
    }

    /** Whether header addresses are rewritten for this message (a header rewriting context applies). */
    boolean rewritesHeaders() {
        return headerLocal != null;
    }

    /** One address of a sender header (From, Reply-To ...) or recipient header (To, Cc ...), rewritten. */
    String header(boolean senderHeader, String address) throws IOException {
        if (headerLocal == null || address.isEmpty()) {
            return address;
        }
        String a = settings.canonicalise(address, headerLocal);
        return oneToOne(a, senderHeader ? AddressClass.HEADER_SENDER : AddressClass.HEADER_RECIPIENT);
    }

    /** The one-to-one steps for an address of {@code cls}: the class's canonical maps, then masquerading. */
    private String oneToOne(String address, AddressClass cls) throws IOException {
        if (!mappings) {
            return address;
        }
        boolean sender = cls == AddressClass.ENVELOPE_SENDER || cls == AddressClass.HEADER_SENDER;
        String own = sender ? "sender_canonical" : "recipient_canonical";
        String a = address;
        if (settings.classes(own + "_classes").contains(cls)) {
            a = map11(own + "_maps", a);
        }
        if (settings.classes("canonical_classes").contains(cls)) {
            a = map11("canonical_maps", a);
        }
        if (settings.classes("masquerade_classes").contains(cls)) {
            a = masquerade(a);
        }
        return a;
    }

    /** cleanup_map11_external(): follow one-to-one mappings until none applies or an address maps to itself. */
    private String map11(String parameter, String address) throws IOException {
        if (settings.tables(parameter).isEmpty() || address.isEmpty()) {
            return address;
        }
        String a = address;
        for (int count = 0; count < MAX_NESTING; count++) {
            List<String> result = tables.map(parameter, a, settings.propagate("canonical"));
            if (result == null) {
                return a;
            }
            String previous = a;
            a = result.get(0);
            if (a.equalsIgnoreCase(previous)) {
                return a;
            }
        }
        log.warn("unreasonable {} map nesting for {}", parameter, address);
        return a;
    }

    /** cleanup_map1n_internal(): expand a recipient through {@code virtual_alias_maps}, breadth and depth bounded. */
    List<String> expand(String address) throws IOException {
        List<String> argv = new ArrayList<>(List.of(address));
        Set<String> expandedToSelf = new HashSet<>();
        for (int arg = 0; arg < argv.size(); arg++) {
            if (argv.size() > settings.expansionLimit()) {
                throw new IOException("unreasonable virtual_alias_maps map expansion size for " + address
                        + " -- message not accepted, try again later");
            }
            for (int count = 0; ; count++) {
                if (expandedToSelf.contains(argv.get(arg).toLowerCase(Locale.ROOT))) {
                    break;
                }
                if (count >= settings.recursionLimit()) {
                    throw new IOException("unreasonable virtual_alias_maps map nesting for " + address
                            + " -- message not accepted, try again later");
                }
                String lhs = argv.get(arg);
                List<String> result = tables.map("virtual_alias_maps", lhs, settings.propagate("virtual"));
                if (result == null) {
                    break;
                }
                for (int i = 0; i < result.size(); i++) {
                    String r = result.get(i);
                    if (r.length() > settings.addressLengthLimit()) {
                        throw new IOException("unreasonable virtual_alias_maps result " + r
                                + " -- message not accepted, try again later");
                    }
                    if (i == 0) {
                        argv.set(arg, r);
                    } else {
                        argv.add(r);
                    }
                    if (r.equalsIgnoreCase(lhs)) {
                        expandedToSelf.add(lhs.toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
        return argv;
    }

    /**
     * cleanup_masquerade_external(): unless the local part is in {@code masquerade_exceptions}, the first
     * {@code masquerade_domains} entry that is a parent of the domain replaces it ({@code !entry}: leave it); an
     * entry equal to the domain ends the search.
     */
    String masquerade(String address) throws IOException {
        int at = address.lastIndexOf('@');
        if (settings.masqueradeDomains().isEmpty() || at < 0) {
            return address;
        }
        String name = address.substring(0, at);
        String domain = address.substring(at + 1).toLowerCase(Locale.ROOT);
        List<String> exceptions = settings.list("masquerade_exceptions");
        if (!exceptions.isEmpty() && tables.matches("masquerade_exceptions", exceptions, name)) {
            return address;
        }
        for (String entry : settings.masqueradeDomains()) {
            boolean truncate = true;
            while (entry.startsWith("!")) {
                truncate = !truncate;
                entry = entry.substring(1);
            }
            String masq = entry.toLowerCase(Locale.ROOT);
            if (masq.isEmpty()) {
                continue;
            }
            if (masq.equals(domain)) {
                break;
            }
            if (domain.endsWith("." + masq)) {
                return truncate ? name + "@" + masq : address;
            }
        }
        return address;
    }

    @Override
    public void close() {
        tables.close();
    }

    /** An address in internal form: a quoted local part unquoted ({@code "a b"@x} to {@code a b@x}). */
    static String internal(String address) {
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        if (local.length() < 2 || !local.startsWith("\"") || !local.endsWith("\"")) {
            return address;
        }
        String inner = local.substring(1, local.length() - 1).replaceAll("\\\\(.)", "$1");
        return inner + (at < 0 ? "" : address.substring(at));
    }

    /** An address in external form: a local part that is no dot-atom is quoted (quote_822_local()). */
    static String external(String address) {
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        if (local.isEmpty() || local.matches("[^\\x00-\\x20\"(),:;<>@\\[\\\\\\]\\x7f]+(\\.[^\\x00-\\x20\"(),:;<>@\\[\\\\\\]\\x7f]+)*")) {
            return address;
        }
        return "\"" + local.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" + (at < 0 ? "" : address.substring(at));
    }

    /**
     * What address rewriting reads from main.cf, read once per message.
     *
     * @param config the snapshot the message is handled with
     */
    record Settings(ConfigSnapshot config) {
        String myorigin() {
            return config.value("myorigin");
        }

        List<String> mydestination() {
            return list("mydestination");
        }

        String remoteDomain() {
            return config.value("remote_header_rewrite_domain").strip();
        }

        String recipientDelimiter() {
            return config.value("recipient_delimiter");
        }

        boolean ownerRequestSpecial() {
            return config.bool("owner_request_special");
        }

        long expansionLimit() {
            return config.integer("virtual_alias_expansion_limit");
        }

        long recursionLimit() {
            return config.integer("virtual_alias_recursion_limit");
        }

        long addressLengthLimit() {
            return config.integer("virtual_alias_address_length_limit");
        }

        List<String> masqueradeDomains() {
            return list("masquerade_domains");
        }

        /** The table references of a {@code *_maps} parameter. */
        List<String> tables(String parameter) {
            return list(parameter);
        }

        /**
         * A list parameter split as Postfix's mystrtokq(): on white space and commas, with {@code { }} keeping an
         * element together ({@code inline:{ a=b, c=d }}).
         */
        List<String> list(String parameter) {
            return org.estafeta.config.ConfigValues.list(config.get(parameter).orElse(""));
        }

        /** Whether {@code propagate_unmatched_extensions} names {@code what} ({@code canonical}, {@code virtual}). */
        boolean propagate(String what) {
            return list("propagate_unmatched_extensions").stream().anyMatch(w -> w.equalsIgnoreCase(what));
        }

        /** The classes a {@code *_classes} parameter names; an unknown name is a configuration error. */
        Set<AddressClass> classes(String parameter) throws IOException {
            Set<AddressClass> out = EnumSet.noneOf(AddressClass.class);
            for (String w : list(parameter)) {
                try {
                    out.add(AddressClass.valueOf(w.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IOException(parameter + ": unknown address class: " + w);
                }
            }
            return out;
        }

        /**
         * rewrite_tree() in the local context ({@code $myorigin}, {@code $mydomain}) or the remote one
         * ({@code $remote_header_rewrite_domain} for both): undo a source route, {@code site!user} and
         * {@code user%domain}, complete a bare name and a dotless domain, drop one trailing dot.
         */
        String canonicalise(String address, boolean local) {
            String addr = address;
            if (addr.isEmpty() || addr.equals("@")) {
                return "";
            }
            int colon = addr.indexOf(':');
            if (addr.startsWith("@") && colon >= 0 && colon < addr.length() - 1) {
                addr = addr.substring(colon + 1);
            }
            String origin = local ? myorigin() : remoteDomain();
            String dotDomain = local ? config.value("mydomain") : remoteDomain();
            if (addr.indexOf('@') < 0) {
                int bang = addr.indexOf('!');
                int percent = addr.lastIndexOf('%');
                if (config.bool("swap_bangpath") && bang >= 0) {
                    addr = addr.substring(bang + 1) + "@" + addr.substring(0, bang);
                } else if (config.bool("allow_percent_hack") && percent >= 0) {
                    addr = addr.substring(0, percent) + "@" + addr.substring(percent + 1);
                } else if (config.bool("append_at_myorigin") && !origin.isEmpty()) {
                    addr = addr + "@" + origin;
                }
            }
            int at = addr.lastIndexOf('@');
            if (at >= 0 && at < addr.length() - 1 && config.bool("append_dot_mydomain") && !dotDomain.isEmpty()) {
                String domain = addr.substring(at + 1);
                if (!domain.startsWith("[") && domain.indexOf('.') < 0) {
                    addr = addr + "." + dotDomain;
                }
            }
            int n = addr.length();
            if (n > 1 && addr.charAt(n - 1) == '.' && addr.charAt(n - 2) != '.' && addr.charAt(n - 2) != '@') {
                addr = addr.substring(0, n - 1);
            }
            return addr;
        }

        /**
         * Whether the client is in {@code local_header_rewrite_clients}: {@code permit_inet_interfaces} (an address
         * of this host), {@code permit_mynetworks} (addresses and networks of {@code mynetworks}),
         * {@code permit_sasl_authenticated}, {@code static:all}; other elements never match.
         */
        boolean localHeaderClient(Submission s) {
            InetAddress client = address(s.client().address());
            for (String e : list("local_header_rewrite_clients")) {
                boolean match = switch (e.toLowerCase(Locale.ROOT)) {
                    case "permit_inet_interfaces" -> client != null && isOwn(client);
                    case "permit_mynetworks" -> client != null && list("mynetworks").stream()
                            .anyMatch(n -> inNetwork(client, n));
                    case "permit_sasl_authenticated" -> s.client().saslUsername().isPresent();
                    case "static:all" -> true;
                    default -> false;
                };
                if (match) {
                    return true;
                }
            }
            return false;
        }

        private static boolean isOwn(InetAddress a) {
            try {
                return a.isLoopbackAddress() || NetworkInterface.getByInetAddress(a) != null;
            } catch (SocketException e) {
                return false;
            }
        }

        /** {@code a.b.c.d}, {@code a.b.c.d/n}, {@code [v6]}, {@code [v6]/n}. */
        static boolean inNetwork(InetAddress a, String network) {
            String n = network.replace("[", "").replace("]", "");
            int slash = n.indexOf('/');
            InetAddress base = address(slash < 0 ? n : n.substring(0, slash));
            if (base == null || base.getAddress().length != a.getAddress().length) {
                return false;
            }
            byte[] x = a.getAddress();
            byte[] y = base.getAddress();
            int bits;
            try {
                bits = slash < 0 ? x.length * 8 : Integer.parseInt(n.substring(slash + 1));
            } catch (NumberFormatException e) {
                return false;
            }
            for (int i = 0; i < x.length && bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
                if ((x[i] & mask) != (y[i] & mask)) {
                    return false;
                }
            }
            return true;
        }

        /** A numeric address, or null for anything else (never a DNS lookup). */
        static InetAddress address(String text) {
            if (text == null || text.isEmpty() || !text.matches("[0-9A-Fa-f:.]+")) {
                return null;
            }
            try {
                return InetAddress.getByName(text);
            } catch (UnknownHostException e) {
                return null;
            }
        }
    }
}
