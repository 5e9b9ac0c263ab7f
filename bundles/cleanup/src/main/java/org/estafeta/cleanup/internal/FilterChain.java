package org.estafeta.cleanup.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;

/**
 * Runs the {@code estafeta_content_filters} of one message, in their order, each on cleanup's filter threads with
 * {@code estafeta_content_filter_timeout} (never on the caller's thread, so a hung filter cannot hold it longer), and
 * combines their verdicts: the first Reject, Defer or Discard ends the chain; Hold marks the message and the chain
 * goes on; Accept's headers are kept, each filter's above the earlier ones', and later filters see them. A filter
 * that is not installed fails the message with {@code 451 4.3.0}; one that throws, answers nothing or runs out of
 * time does too, unless it is in {@code estafeta_content_filter_fail_open}. Every verdict and every failure is one
 * maillog line.
 *
 * <p>Blocking: {@link #run} waits for each filter in turn, at most the timeout each.
 */
final class FilterChain {
    /** What cleanup does when a filter cannot answer: the client tries again later. */
    static final Reply TEMPFAIL = new Reply(451, "4.3.0", "Error: content filter temporarily unavailable");

    /** How the chain ended. */
    sealed interface Outcome {
        /**
         * Queue the message, with these headers on top (first line first), on hold when {@code hold}; with the
         * filters' header {@code edits}, {@code recipients} added, and the body replaced by {@code body} (a file the
         * chain now owns: the caller deletes it).
         */
        record Pass(List<Header> headers, boolean hold, List<org.estafeta.api.filter.HeaderEdit> edits,
                List<String> recipients, java.util.Optional<java.nio.file.Path> body) implements Outcome {
            Pass(List<Header> headers, boolean hold) {
                this(headers, hold, List.of(), List.of(), java.util.Optional.empty());
            }

            boolean rewritesContent() {
                return !edits.isEmpty() || body.isPresent();
            }
        }

        /** Refuse it with this reply (a filter's Reject or Defer, or {@link #TEMPFAIL}); nothing is queued. */
        record Refuse(Reply reply) implements Outcome {
        }

        /** Accept it and throw it away. */
        record Discard() implements Outcome {
        }
    }

    /** Where the chain's lines go: cleanup's log, in its header_checks shape. */
    interface ActionLog {
        /** {@code ID: VERB: SUBJECT from host[addr]; from=<..> to=<..> proto=.. helo=<..>: DETAIL} at info. */
        void action(String verb, String subject, String detail);

        /** {@code warning: ID: TEXT}. */
        void warn(String text);
    }

    private final FilterSettings settings;
    private final FilterRegistry registry;
    private final ExecutorService threads;

    FilterChain(FilterSettings settings, FilterRegistry registry, ExecutorService threads) {
        this.settings = settings;
        this.registry = registry;
        this.threads = threads;
    }

    /**
     * @param content the message as a filter sees it, given the header lines added so far (CRLF-terminated bytes)
     */
    Outcome run(Envelope envelope, Function<byte[], MessageContent> content, PluginContext context, ActionLog log) {
        List<Header> added = new ArrayList<>();
        List<org.estafeta.api.filter.HeaderEdit> edits = new ArrayList<>();
        List<String> recipients = new ArrayList<>();
        java.nio.file.Path[] body = new java.nio.file.Path[1];
        Outcome outcome = null;
        try {
            outcome = runFilters(envelope, content, context, log, added, edits, recipients, body);
            if (outcome == null) {
                outcome = new Outcome.Pass(List.copyOf(added), false, List.copyOf(edits), List.copyOf(recipients),
                        java.util.Optional.ofNullable(body[0]));
            }
            return outcome;
        } finally {
            if (!(outcome instanceof Outcome.Pass) && body[0] != null) {
                deleteQuietly(body[0]);
            }
        }
    }

    private static void deleteQuietly(java.nio.file.Path p) {
        try {
            java.nio.file.Files.deleteIfExists(p);
        } catch (java.io.IOException ignored) {
            // a filter's temporary file: its own directory's clean-up
        }
    }

    /** The filters in order; null when all passed (the accumulated changes are in the lists), else how it ended. */
    private Outcome runFilters(Envelope envelope, Function<byte[], MessageContent> content, PluginContext context,
            ActionLog log, List<Header> added, List<org.estafeta.api.filter.HeaderEdit> edits, List<String> recipients,
            java.nio.file.Path[] body) {
        boolean hold = false;
        for (String name : settings.names()) {
            var entry = registry.find(name);
            if (entry.isEmpty()) {
                log.warn("filter " + name + ": no installed bundle registers " + ContentFilter.NAME + "=" + name
                        + " -- message not accepted, try again later");
                return new Outcome.Refuse(TEMPFAIL);
            }
            String subject = "filter " + name + " (" + entry.get().origin() + ")";
            FilterVerdict verdict;
            try {
                verdict = call(entry.get().filter(), envelope, content.apply(lines(added)), context);
            } catch (Failure f) {
                if (settings.failOpen().contains(name)) {
                    log.warn(subject + ": " + f.getMessage() + " -- " + FilterSettings.FAIL_OPEN
                            + ": message passed on without this filter");
                    continue;
                }
                log.warn(subject + ": " + f.getMessage() + " -- message not accepted, try again later");
                return new Outcome.Refuse(TEMPFAIL);
            }
            if (verdict instanceof FilterVerdict.Modify mod) {
                added.addAll(0, mod.addHeaders());
                edits.addAll(mod.edits());
                recipients.addAll(mod.addRecipients());
                if (mod.body().isPresent()) {
                    if (body[0] != null) {
                        deleteQuietly(body[0]); // a later filter's body replaces an earlier one's
                    }
                    body[0] = mod.body().get();
                }
                List<String> what = new ArrayList<>();
                if (!mod.addHeaders().isEmpty()) {
                    what.add("added " + String.join(", ", mod.addHeaders().stream().map(Header::name).toList()));
                }
                if (!mod.edits().isEmpty()) {
                    what.add("edited " + String.join(", ", mod.edits().stream()
                            .map(e -> (e.value().isPresent() ? "" : "-") + e.name() + "[" + e.index() + "]").toList()));
                }
                if (!mod.addRecipients().isEmpty()) {
                    what.add("added recipients " + String.join(", ", mod.addRecipients()));
                }
                if (mod.body().isPresent()) {
                    what.add("replaced the body");
                }
                log.action("accept", subject, what.isEmpty() ? "no changes" : String.join("; ", what));
            } else if (verdict instanceof FilterVerdict.Accept a) {
                added.addAll(0, a.addHeaders());
                log.action("accept", subject, a.addHeaders().isEmpty() ? "no headers added"
                        : "added " + String.join(", ", a.addHeaders().stream().map(Header::name).toList()));
            } else if (verdict instanceof FilterVerdict.Reject r) {
                log.action("reject", subject, r.reply().enhancedStatus() + " " + r.reply().text());
                return new Outcome.Refuse(r.reply());
            } else if (verdict instanceof FilterVerdict.Defer d) {
                // as Postfix logs a 4xx header_checks action: "reject:" with the 4.x.x status
                log.action("reject", subject, d.reply().enhancedStatus() + " " + d.reply().text());
                return new Outcome.Refuse(d.reply());
            } else if (verdict instanceof FilterVerdict.Discard d) {
                log.action("discard", subject, d.reason());
                return new Outcome.Discard();
            } else if (verdict instanceof FilterVerdict.Hold h) {
                log.action("hold", subject, h.reason());
                hold = true;
            }
        }
        if (hold) {
            return new Outcome.Pass(List.copyOf(added), true, List.copyOf(edits), List.copyOf(recipients),
                    java.util.Optional.ofNullable(body[0]));
        }
        return null;
    }

    /** A filter gave no verdict: the why, for the log. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String why) {
            super(why);
        }
    }

    private FilterVerdict call(ContentFilter filter, Envelope envelope, MessageContent content, PluginContext context)
            throws Failure {
        Future<FilterVerdict> f;
        try {
            f = threads.submit(() -> filter.filter(envelope, content, context));
        } catch (RejectedExecutionException e) {
            throw new Failure("cleanup is shutting down");
        }
        FilterVerdict v;
        try {
            v = f.get(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new Failure("timeout after " + settings.timeout().toSeconds() + "s ("
                    + FilterSettings.TIMEOUT + ")");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new Failure(cause.getMessage() != null ? cause.getMessage() : cause.toString());
        }
        if (v == null) {
            throw new Failure("the filter returned no verdict");
        }
        return v;
    }

    /**
     * The header lines as they go into the message: {@code Name: value}, folded before 78 columns where the value
     * has white space, CRLF line ends. A CR or LF in a value (a filter's mistake) becomes a space, so that a filter
     * can never end the header section or inject lines.
     */
    static byte[] lines(List<Header> headers) {
        StringBuilder sb = new StringBuilder();
        for (Header h : headers) {
            // a fold the filter made (a line end followed by a space or tab) is kept as CRLF + that white space;
            // any other CR or LF becomes a space, so a value can never end the header section or inject lines
            String value = h.value().replace('\0', ' ').replaceAll("\r?\n(?=[ \t])", "\0").replace('\r', ' ')
                    .replace('\n', ' ');
            String[] physical = (h.name() + ": " + value).split("\0");
            for (int i = 0; i < physical.length; i++) {
                sb.append(i == 0 ? fold(physical[i]) : physical[i]).append("\r\n");
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Breaks a header line before white space so that lines stay within 78 characters where possible. */
    static String fold(String line) {
        StringBuilder out = new StringBuilder(line.length() + 16);
        int start = 0;
        int first = line.indexOf(": ") + 2; // never fold between the name and the value's first word
        while (line.length() - start > 78) {
            int cut = -1;
            for (int i = start + 78; i > Math.max(start, first); i--) {
                char c = line.charAt(i);
                if (c == ' ' || c == '\t') {
                    cut = i;
                    break;
                }
            }
            if (cut < 0) {
                break; // no white space to fold at: the line stays long
            }
            out.append(line, start, cut).append("\r\n");
            start = cut; // the white space stays, as the continuation line's indentation
        }
        return out.append(line, start, line.length()).toString();
    }
}
