package org.estafeta.launcher.log;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/** Felix's own messages (resolution errors, bundle exceptions) as maillog lines under the program name {@code felix}. */
public final class FelixLogBridge extends org.apache.felix.framework.Logger {
    @Override
    protected void doLog(Bundle bundle, ServiceReference sr, int level, String msg, Throwable throwable) {
        String text = msg;
        if (bundle != null && bundle.getSymbolicName() != null) {
            text = bundle.getSymbolicName() + " [" + bundle.getBundleId() + "]: " + msg;
        }
        Maillog.Level l = switch (level) {
            case LOG_ERROR -> Maillog.Level.ERROR;
            case LOG_WARNING -> Maillog.Level.WARN;
            case LOG_INFO -> Maillog.Level.INFO;
            default -> Maillog.Level.DEBUG;
        };
        Maillog.log("felix", l, text, throwable);
    }
}
