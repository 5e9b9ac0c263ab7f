package org.estafeta.sample.stampfilter;

import java.util.List;

import org.estafeta.api.filter.FilterSession;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.SessionFilter;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.service.component.annotations.Component;

/**
 * The content filter {@code stamp} ({@code estafeta_content_filters = stamp}): accepts every message and adds
 * {@code X-Stamp: SYMBOLIC-NAME VERSION}, naming the bundle that did it, so that one can see in each delivered message
 * which version of the plugin handled it (docs/sample-filter.md). It is a {@link SessionFilter}: the gateway opens a
 * session of it per SMTP session (of the version installed at each MAIL), and the session answers at the end of each
 * message; every other event keeps {@link FilterSession}'s default, which lets it pass.
 *
 * <p>The bundle's name and version are read from its own manifest when the component is created, so a new version
 * dropped into the deploy directory stamps its own version without a change in the code. <b>Threading:</b> immutable
 * after construction; any number of sessions may run at once, each on its worker thread. <b>Blocking:</b> never; the message
 * content is not read. <b>Errors:</b> when its manifest cannot be read the component fails to activate (no service is
 * registered), so cleanup refuses mail with 451 as for a filter that is not installed, rather than stamping it wrongly.
 */
@Component(property = SessionFilter.NAME + "=" + StampFilter.NAME)
public class StampFilter implements SessionFilter {
    /** The filter's name in {@code estafeta_content_filters}. */
    static final String NAME = "stamp";
    /** The header it adds. */
    static final String HEADER = "X-Stamp";

    private final FilterVerdict.Accept verdict;

    /** Used by Declarative Services: stamps with the identity of the bundle this class was loaded from. */
    public StampFilter() {
        this(BundleIdentity.of(StampFilter.class));
    }

    StampFilter(BundleIdentity identity) {
        this.verdict = new FilterVerdict.Accept(List.of(new Header(HEADER, identity.toString())));
    }

    @Override
    public FilterSession open(PluginContext context) {
        return new FilterSession() {
            @Override
            public FilterVerdict endOfMessage(Envelope envelope, MessageContent content) {
                return verdict;
            }
        };
    }
}
