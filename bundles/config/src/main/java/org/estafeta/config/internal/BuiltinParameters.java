package org.estafeta.config.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * THE REGISTRY of the parameters Estafeta supports, with their built-in defaults. To support a new parameter,
 * add one line to {@link #REGISTRY}: its Postfix name, its default as Postfix writes it (with {@code $name}
 * references, unexpanded) or a computation, and a one-line description for docs/configuration.md. Parameters of
 * Estafeta's own start with {@code estafeta_}.
 *
 * <p>A parameter that Postfix knows (see {@link PostfixNames}) but that is not in this registry is "not
 * supported yet": main.cf may set it, {@code postconf} prints it, and the loader warns about it.
 */
public final class BuiltinParameters {

    /** What a computed default may ask about. */
    public interface Context {
        /** The expanded value of another parameter (or null if undefined); loops are detected. */
        String expand(String name);

        /** The main.cf (or master.cf -o) value of a parameter, expanded, or null when it is not set explicitly. */
        String explicitExpanded(String name);

        Path configDirectory();

        Path varDirectory();
    }

    /**
     * One supported parameter.
     *
     * @param name the parameter name
     * @param defaultValue the default as Postfix writes it (unexpanded), computed from the context
     * @param description one line for the operator's reference
     * @param timeUnit the unit of a bare number for time parameters ({@code s m h d w}), or 0
     * @param computed whether the default is computed (shown as "computed" in docs)
     */
    public record Parameter(String name, Function<Context, String> defaultValue, String description, char timeUnit,
            boolean computed) {
    }

    private static Parameter text(String name, String value, String description) {
        return new Parameter(name, c -> value, description, (char) 0, false);
    }

    private static Parameter time(String name, String value, char unit, String description) {
        return new Parameter(name, c -> value, description, unit, false);
    }

    private static Parameter computed(String name, Function<Context, String> value, String description) {
        return new Parameter(name, value, description, (char) 0, true);
    }

    /** The supported parameters, in the order docs/configuration.md lists them. */
    public static final List<Parameter> REGISTRY = List.of(
            // ---- Postfix parameters (Postfix names and meaning; Postfix defaults unless the description says) ----
            computed("myhostname", BuiltinParameters::defaultMyhostname,
                    "the machine's host name as the kernel reports it; when it has no dot, `.$mydomain` (main.cf) or `.localdomain` is appended, as Postfix does"),
            computed("mydomain", BuiltinParameters::defaultMydomain,
                    "`$myhostname` without its first label; `localdomain` when `$myhostname` has no dot"),
            text("myorigin", "$myhostname", "the domain that locally-posted mail appears to come from"),
            text("mydestination", "$myhostname, localhost.$mydomain, localhost",
                    "the domains this machine delivers locally"),
            computed("mynetworks", BuiltinParameters::defaultMynetworks,
                    "trusted client networks; by default computed from `mynetworks_style` and the machine's interfaces"),
            text("mynetworks_style", "host",
                    "`host`, `subnet` or `class`: how the default `mynetworks` is computed (Postfix 3's default with compatibility_level 2 or later)"),
            text("inet_interfaces", "all", "the addresses the SMTP listeners bind to"),
            text("inet_protocols", "all", "`all`, `ipv4`, `ipv6` or `ipv4, ipv6`"),
            text("smtpd_banner", "$myhostname ESMTP $mail_name", "the text after `220` in the SMTP greeting"),
            text("mail_name", "Estafeta", "the mail system's name in the banner and in reports (Postfix: `Postfix`)"),
            computed("mail_version", c -> Version.VERSION, "the Estafeta version (read-only in practice)"),
            computed("config_directory", c -> c.configDirectory().toString(),
                    "the directory holding main.cf and master.cf (the `-c` directory)"),
            text("queue_directory", "$estafeta_var_directory/spool", "the mail queue (Postfix: `/var/spool/postfix`)"),
            text("data_directory", "$estafeta_var_directory/lib",
                    "caches and other writable data (Postfix: `/var/lib/postfix`)"),
            text("maillog_file", "$estafeta_var_directory/log/maillog",
                    "the log file, written in Postfix's maillog shape (Postfix: empty, i.e. syslog)"),
            text("syslog_name", "estafeta", "the program-name prefix of log lines (Postfix: `postfix`)"),
            text("default_process_limit", "100", "the default of master.cf's maxproc column (`-`)"),
            time("smtpd_timeout", "300s", 's',
                    "how long the SMTP server waits for a client command before `421 4.4.2` (Postfix: `${stress?{10}:{300}}s`; Estafeta has no stress mode yet)"),
            text("line_length_limit", "2048",
                    "the longest SMTP command line (with its CRLF) the server accepts; longer ones get `500 5.5.2`"),
            // ---- Estafeta's own ----
            computed("estafeta_var_directory", c -> c.varDirectory().toString(),
                    "the data directory given to the gateway at start (the launcher's var directory)"),
            text("estafeta_deploy_directory", "$estafeta_var_directory/deploy",
                    "bundles dropped here are installed and started; removed ones are stopped and uninstalled"),
            text("estafeta_webconsole_listen", "127.0.0.1:2580", "host:port of the web console"),
            text("estafeta_webconsole_user", "admin", "the web console's user name"),
            text("estafeta_webconsole_password", "",
                    "the web console's password; empty means: generate one on first start and print it once"));

    private static final Map<String, Parameter> BY_NAME;

    static {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : REGISTRY) {
            if (m.put(p.name(), p) != null) {
                throw new IllegalStateException("parameter registered twice: " + p.name());
            }
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /**
     * Postfix parameters whose values are used as written, never $name-expanded (Postfix's "raw" parameters:
     * they hold $names that are expanded per message at run time).
     */
    static final Set<String> RAW = Set.of("default_rbl_reply", "command_execution_directory", "forward_path",
            "luser_relay", "mailbox_command", "postscreen_expansion_filter", "postscreen_reject_footer",
            "smtpd_expansion_filter", "smtpd_reject_footer");

    private BuiltinParameters() {
    }

    public static Parameter find(String name) {
        return BY_NAME.get(name);
    }

    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    // ---- computed defaults ----

    private static String defaultMyhostname(Context c) {
        String name = localHostName();
        if (name.indexOf('.') < 0) {
            String domain = c.explicitExpanded("mydomain");
            name = name + "." + (domain != null ? domain : "localdomain");
        }
        return name;
    }

    private static String defaultMydomain(Context c) {
        String host = c.expand("myhostname");
        int dot = host == null ? -1 : host.indexOf('.');
        return dot < 0 ? "localdomain" : host.substring(dot + 1);
    }

    /**
     * The machine's name as gethostname() gives it, without a DNS lookup (Postfix deliberately does none here:
     * a lookup can hang when DNS is down).
     */
    static String localHostName() {
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String s = Files.readString(p, StandardCharsets.US_ASCII).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static String defaultMynetworks(Context c) {
        String style = c.expand("mynetworks_style");
        style = style == null ? "host" : style.strip();
        Set<String> nets = new LinkedHashSet<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                    InetAddress a = ia.getAddress();
                    int bits = a instanceof Inet4Address ? 32 : 128;
                    int prefix = switch (style) {
                        case "subnet" -> ia.getNetworkPrefixLength();
                        case "class" -> a instanceof Inet4Address ? classPrefix(a) : ia.getNetworkPrefixLength();
                        default -> bits;
                    };
                    nets.add(format(network(a, prefix), prefix));
                }
            }
        } catch (IOException e) {
            nets.add("127.0.0.0/8");
        }
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (String n : nets) {
            (n.startsWith("[") ? v6 : v4).add(n);
        }
        v4.addAll(v6);
        return String.join(" ", v4);
    }

    private static int classPrefix(InetAddress a) {
        int first = a.getAddress()[0] & 0xff;
        return first < 128 ? 8 : first < 192 ? 16 : 24;
    }

    private static InetAddress network(InetAddress a, int prefix) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (IOException e) {
            return a;
        }
    }

    private static String format(InetAddress a, int prefix) {
        if (a instanceof Inet6Address) {
            String s = a.getHostAddress();
            int pct = s.indexOf('%');
            if (pct >= 0) {
                s = s.substring(0, pct);
            }
            return "[" + compress6(s) + "]/" + prefix;
        }
        return a.getHostAddress() + "/" + prefix;
    }

    /** Java prints IPv6 without "::" compression; Postfix prints the compressed form. */
    static String compress6(String full) {
        String[] parts = full.split(":");
        StringBuilder sb = new StringBuilder();
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < parts.length;) {
            if (parts[i].replaceFirst("^0+", "").isEmpty()) {
                int j = i;
                while (j < parts.length && parts[j].replaceFirst("^0+", "").isEmpty()) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        for (int i = 0; i < parts.length; i++) {
            if (i == bestStart) {
                sb.append(i == 0 ? "::" : ":");
                i += bestLen - 1;
                continue;
            }
            String p = parts[i].replaceFirst("^0+(?=.)", "");
            sb.append(p);
            if (i < parts.length - 1) {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    /** The project version, from a resource Maven fills in at build time. */
    static final class Version {
        static final String VERSION = load();

        private static String load() {
            try (InputStream in = BuiltinParameters.class.getResourceAsStream("version.properties")) {
                Properties p = new Properties();
                if (in != null) {
                    p.load(in);
                }
                String v = p.getProperty("version");
                return v == null || v.startsWith("${") ? "unknown" : v;
            } catch (IOException e) {
                return "unknown";
            }
        }
    }
}
