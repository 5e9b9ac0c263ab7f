/**
 * What a plugin may see of the gateway: its logger, its own parameters from main.cf and a clock, and nothing of the core's internals.
 */
@Export
@Version("1.0.0")
package org.estafeta.api.plugin;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
