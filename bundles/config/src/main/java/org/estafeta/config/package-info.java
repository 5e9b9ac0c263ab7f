/**
 * The gateway's configuration: main.cf and master.cf read with Postfix's syntax and meaning, published as an
 * immutable {@link org.estafeta.config.ConfigSnapshot} by the {@link org.estafeta.config.ConfigSource} service.
 * Core bundles use this package; plugins see configuration only through
 * {@link org.estafeta.api.plugin.PluginContext}.
 */
@Export
@Version("1.1.0")
package org.estafeta.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
