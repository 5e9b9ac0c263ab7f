package org.estafeta.table.regexp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RuleSetTest {
    static Optional<String> q(Dialect d, String table, String key) throws Exception {
        return RuleSet.parse(d, "/t", table).lookup(key);
    }

    static String err(Dialect d, String table) {
        return assertThrows(RuleSet.SyntaxError.class, () -> RuleSet.parse(d, "/t", table)).getMessage();
    }

    @Test
    void caseInsensitiveByDefaultAndFlagIToggles() throws Exception {
        for (Dialect d : Dialect.values()) {
            assertEquals(Optional.of("A"), q(d, "/^date:/ A\n", "DATE: x"));
            assertEquals(Optional.empty(), q(d, "/^date:/i A\n", "DATE: x"));
            assertEquals(Optional.of("A"), q(d, "/^date:/i A\n", "date: x"));
        }
    }

    @Test
    void firstMatchWinsNegationAndSubstitution() throws Exception {
        String t = "!/@example\\.com$/ OUT\n/^(.*)@(.*)$/ $2 ${1} $$ $(1)\n";
        for (Dialect d : Dialect.values()) {
            assertEquals(Optional.of("OUT"), q(d, t, "a@b.org"));
            assertEquals(Optional.of("example.com u $ u"), q(d, t, "u@example.com"));
        }
    }

    @Test
    void ifEndifNestedCommentsContinuation() throws Exception {
        String t = "# c\nif /a/\n  # indented comment\nif !/b/\n/c/ no-b\nendif\n/c/ with\n  -b\nENDIF\n/./ other\n";
        for (Dialect d : Dialect.values()) {
            assertEquals(Optional.of("no-b"), q(d, t, "ac"));
            assertEquals(Optional.of("with  -b"), q(d, t, "abc"));
            assertEquals(Optional.of("other"), q(d, t, "xc"));
        }
    }

    @Test
    void posixBracketsLongestMatchAndBackReferences() throws Exception {
        assertEquals(Optional.of("ab"), q(Dialect.REGEXP, "/(a|ab)/ $1\n", "ab"));
        assertEquals(Optional.of("a"), q(Dialect.PCRE, "/(a|ab)/ $1\n", "ab"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/^[[:digit:]]+[]\\]$/ x\n", "12\\"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/^[[:upper:]]$/ x\n", "q"));
        assertEquals(Optional.empty(), q(Dialect.REGEXP, "/^[[:upper:]]$/i x\n", "q"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/^(ab)\\1$/ x\n", "abAB"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/^a+?$/ x\n", "aaa"));
        assertEquals(Optional.empty(), q(Dialect.REGEXP, "/x$/ x\n", "x\n"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/x$/m x\n", "x\ny"));
        assertEquals(Optional.of("x"), q(Dialect.REGEXP, "/^a\\{2\\}(b)+$/x x\n", "aa(b)+"));
        assertEquals(Optional.of("x"), q(Dialect.PCRE, "/^[[:alpha:][]+$/ x\n", "a[b"));
        assertEquals(Optional.of("<a>"), q(Dialect.PCRE, "/<(.+)>/U <$1>\n", "<a><b>"));
        assertEquals(Optional.empty(), q(Dialect.PCRE, "/b/A x\n", "ab"));
    }

    @Test
    void errorsUsePostfixTextsWithFileAndLine() {
        assertEquals("regexp map /t, line 2: unknown regexp option \"q\"", err(Dialect.REGEXP, "/a/ x\n/b/q y\n"));
        assertEquals("pcre map /t, line 1: no closing regexp delimiter \"/\"", err(Dialect.PCRE, "/abc x\n"));
        assertEquals("regexp map /t, line 1: Invalid preceding regular expression", err(Dialect.REGEXP, "/*a/ x\n"));
        assertEquals("regexp map /t, line 1: Unmatched [, [^, [:, [., or [=", err(Dialect.REGEXP, "/[a/ x\n"));
        assertEquals("regexp map /t, line 1: out of range replacement index \"2\"", err(Dialect.REGEXP, "/(a)/ $2\n"));
        assertEquals("pcre map /t, line 1: non-numeric replacement index \"x\"", err(Dialect.PCRE, "/(a)/ $x\n"));
        assertEquals("regexp map /t, line 1: $number found in negative match replacement text",
                err(Dialect.REGEXP, "!/(a)/ $1\n"));
        assertEquals("regexp map /t, line 3: IF has no matching ENDIF", err(Dialect.REGEXP, "/a/ b\n\nif /x/\n"));
        assertEquals("pcre map /t, line 1: ignoring ENDIF without matching IF", err(Dialect.PCRE, "endif\n"));
        assertEquals("pcre map /t, line 1: ignoring unrecognized request", err(Dialect.PCRE, "foo bar\n"));
        assertEquals("regexp map /t, line 1: no replacement text: using empty string", err(Dialect.REGEXP, "/a/\n"));
    }
}
