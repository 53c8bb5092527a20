/**
 * One codec for config records. A record lists its {@link org.pairwise.config.Field}s once, in a
 * {@link org.pairwise.config.Schema}: name, {@link org.pairwise.config.Type}, default, one-line help, the TRL field it
 * mirrors. From that come the defaults, the help text, and values from a JSON/YAML file, {@code PAIRWISE_<FIELD>}
 * environment variables and flags (precedence: defaults &lt; file &lt; environment &lt; flags), with errors
 * ({@link org.pairwise.config.ConfigException}) that name the field.
 */
package org.pairwise.config;
