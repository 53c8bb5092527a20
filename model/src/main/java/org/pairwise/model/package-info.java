/** A Llama-family decoder: config, loading (load), tokenizer and chat templates (tokenizer), forward and sampling. */
package org.pairwise.model;
