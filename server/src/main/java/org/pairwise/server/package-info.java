/** The pairwise launcher (subcommands) and the Vert.x server: verticles, REST API, preference store. */
package org.pairwise.server;
