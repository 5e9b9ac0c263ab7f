package org.estafeta.transport.pipe.internal;

import java.util.List;
import java.util.Locale;

/**
 * The command attributes of a pipe entry in master.cf, as pipe(8) reads them: {@code flags=}, {@code user=name[:group]},
 * {@code size=}, {@code eol=}, {@code directory=}, {@code null_sender=}, then {@code argv=} and every word after it.
 *
 * @param flags the letters of {@code flags=}, each checked
 * @param user the user name of {@code user=}
 * @param group the group name after the colon, or null for the user's own group
 * @param sizeLimit {@code size=} in bytes, 0 for no limit
 * @param eol the line end written to the command, escapes resolved (default LF)
 * @param directory the working directory of {@code directory=}, or null
 * @param nullSender what {@code $sender}, From_ and Return-Path show for the null sender (default MAILER-DAEMON)
 * @param command the command and its arguments, macros not yet expanded
 */
record PipeAttributes(String flags, String user, String group, long sizeLimit, String eol, String directory,
        String nullSender, List<String> command) {

    static final String FLAG_LETTERS = "BDFORXhqu.>";

    boolean has(char flag) {
        return flags.indexOf(flag) >= 0;
    }

    /** Reads the arguments; a problem is reported with the text Postfix's pipe dies with. */
    static PipeAttributes parse(List<String> arguments) throws PipeConfigException {
        String flags = "";
        String user = null;
        String group = null;
        long size = 0;
        String eol = "\n";
        String directory = null;
        String nullSender = "MAILER-DAEMON";
        List<String> command = null;
        for (int i = 0; i < arguments.size() && command == null; i++) {
            String a = arguments.get(i);
            String lower = a.toLowerCase(Locale.ROOT);
            if (lower.startsWith("flags=")) {
                for (char c : a.substring(6).toCharArray()) {
                    if (FLAG_LETTERS.indexOf(c) < 0) {
                        throw new PipeConfigException("unknown flag: " + c);
                    }
                }
                flags += a.substring(6);
            } else if (lower.startsWith("user=")) {
                String v = a.substring(5);
                int colon = v.indexOf(':');
                user = colon < 0 ? v : v.substring(0, colon);
                group = colon < 0 || colon == v.length() - 1 ? null : v.substring(colon + 1);
            } else if (lower.startsWith("directory=")) {
                directory = a.substring(10);
            } else if (lower.startsWith("chroot=")) {
                throw new PipeConfigException("chroot= command-line attribute is not supported by Estafeta: " + a);
            } else if (lower.startsWith("eol=")) {
                eol = unescape(a.substring(4));
            } else if (lower.startsWith("null_sender=")) {
                nullSender = a.substring(12);
            } else if (lower.startsWith("size=")) {
                String v = a.substring(5);
                if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw new PipeConfigException("bad size= value: " + v);
                }
                try {
                    size = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    throw new PipeConfigException("bad size= value: " + v);
                }
            } else if (lower.startsWith("argv=")) {
                command = new java.util.ArrayList<>();
                command.add(a.substring(5));
                command.addAll(arguments.subList(i + 1, arguments.size()));
            } else {
                throw new PipeConfigException("unknown attribute name: " + a);
            }
        }
        if (user == null || user.isEmpty()) {
            throw new PipeConfigException("missing user= command-line attribute");
        }
        if (command == null || command.get(0).isEmpty()) {
            throw new PipeConfigException("missing argv= command-line attribute");
        }
        return new PipeAttributes(flags, user, group, size, eol, directory, nullSender, List.copyOf(command));
    }

    /** Postfix's unescape(): {@code \a \b \f \n \r \t \v \ddd \\}; any other escaped character stands for itself. */
    static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= s.length()) {
                break;
            }
            c = s.charAt(i);
            switch (c) {
                case 'a' -> out.append('\007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\013');
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    int v = c - '0';
                    for (int k = 0; k < 2 && i + 1 < s.length() && s.charAt(i + 1) >= '0' && s.charAt(i + 1) <= '7'; k++) {
                        v = (v << 3) | (s.charAt(++i) - '0');
                    }
                    out.append((char) (v & 0xff));
                }
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
