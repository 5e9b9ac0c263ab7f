package org.estafeta.dns;

/** The three outcomes of every DNS question, as Postfix tells them apart. */
public enum Outcome {
    /** The name has records of the type asked for. */
    FOUND,
    /** A definite answer that there is nothing: the name does not exist, or it has no records of that type. */
    NOT_FOUND,
    /** No definite answer: timeout, SERVFAIL, a refused query, a network error. Ask again later (SMTP 4xx). */
    TEMPORARY_FAILURE
}
