/**
 * Types every extension point shares: the envelope, the client, the message content and SMTP replies. All are immutable values; plugins may keep them beyond the call that handed them over.
 */
@Export
@Version("1.0.0")
package org.estafeta.api.message;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
