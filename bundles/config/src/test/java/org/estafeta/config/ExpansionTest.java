package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExpansionTest {
    @TempDir
    Path dir;

    private ConfigSnapshot load(String mainCf) throws ConfigException {
        return ConfigLoader.load(TestDirs.write(dir, mainCf, ""), dir.resolve("var"));
    }

    @Test
    void allForms() throws Exception {
        ConfigSnapshot s = load(String.join("\n",
                "mydomain = example.org",
                "myhostname = mx.$mydomain",
                "empty =",
                "a = [$mydomain] [${mydomain}] [$(mydomain)]",
                "b = [${mydomain?yes}] [${empty?yes}] [${nothing?yes}]",
                "c = [${mydomain:no}] [${empty:no}] [${nothing:no}]",
                "d = [${mydomain?{t $myhostname}:{f}}] [${empty?{t}:{f $mydomain}}] [${empty ? {t} : f}]",
                "e = cost $$5 and $$mydomain",
                "f = [${{$mydomain} == {example.org} ? {eq} : {ne}}] [${{10} < {9} ? {lt} : {ge}}]",
                "g = $a $b $c $d $e $f $empty $undefined",
                ""));
        assertEquals("[example.org] [example.org] [example.org]", s.value("a"));
        assertEquals("[yes] [] []", s.value("b"));
        assertEquals("[] [no] [no]", s.value("c"));
        // as Postfix: an unbraced operand after ':' starts right after it, white space included
        assertEquals("[t mx.example.org] [f example.org] [ f]", s.value("d"));
        assertEquals("cost $5 and $mydomain", s.value("e"));
        assertEquals("[eq] [ge]", s.value("f"));
        assertEquals("$a $b $c $d $e $f $empty $undefined", s.raw("g").orElseThrow());
        assertEquals(String.join(" ", s.value("a"), s.value("b"), s.value("c"), s.value("d"), s.value("e"),
                s.value("f"), "", "").strip(), s.value("g").strip());
    }

    @Test
    void defaultsExpandThroughMainCf() throws Exception {
        ConfigSnapshot s = load("myhostname = mail.example.com\n");
        assertEquals("example.com", s.value("mydomain"));
        assertEquals("mail.example.com, localhost.example.com, localhost", s.value("mydestination"));
        assertEquals("mail.example.com ESMTP Estafeta", s.value("smtpd_banner"));
        assertEquals("$myhostname ESMTP $mail_name", s.raw("smtpd_banner").orElseThrow());
        assertEquals(dir.resolve("var").resolve("spool").toString(), s.value("queue_directory"));
        assertEquals(dir.resolve("var").resolve("deploy").toString(), s.value("estafeta_deploy_directory"));
    }

    @Test
    void loopNamesFileAndLineOfTheLoopingParameter() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> load("mail_name = ok\nsmtpd_banner = $myhostname\nmyhostname = x${mydomain}\nmydomain = $myhostname\n"));
        assertEquals(dir.resolve("main.cf").toString(), e.file());
        assertEquals(3, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("unreasonable macro call nesting"), e.getMessage());
        assertTrue(e.getMessage().contains("$myhostname -> $mydomain -> $myhostname"), e.getMessage());
    }

    @Test
    void selfReferenceIsALoop() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("\n\nfoo = a $foo\nbar = $foo\n"));
        assertEquals(3, e.line(), e.getMessage());
    }

    @Test
    void loopInsideConditionalIsALoop() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("x = ${y?{$y}}\ny = ${x?{$x}}\n"));
        assertEquals(1, e.line(), e.getMessage());
        assertTrue(e.getMessage().endsWith("$x -> $y -> $x"), e.getMessage());
    }

    @Test
    void conditionalThatIsNotTakenIsNotALoop() throws Exception {
        ConfigSnapshot s = load("x = ${y?{$y}}\ny = ${x:{$x}}\n");
        assertEquals("", s.value("x"));
    }

    @Test
    void conditionalTestOfItselfIsNotALoop() throws Exception {
        assertEquals("set", load("x = ${x?set}\n").value("x"));
    }

    @Test
    void syntaxErrorsNameTheLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("mail_name = a\nmyorigin = ${mydomain\n"));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("truncated macro reference"), e.getMessage());
        ConfigException e2 = assertThrows(ConfigException.class, () -> load("myorigin = a $ b\n"));
        assertTrue(e2.getMessage().contains("empty macro name"), e2.getMessage());
    }

    @Test
    void undefinedReferenceIsWarned() throws Exception {
        ConfigSnapshot s = load("myorigin = $nosuchthing\n");
        assertEquals("", s.value("myorigin"));
        assertTrue(s.warnings().stream().anyMatch(w -> w.message().equals("undefined parameter: nosuchthing")),
                s.warnings()::toString);
    }

    @Test
    void compatibilityLevelComparisonsAndTheDefaultsThatUseThem() throws Exception {
        ConfigSnapshot level0 = load("mydestination = a.example\n");
        assertEquals("a.example", level0.value("relay_domains"));
        assertEquals("", level0.value("smtpd_relay_restrictions"));
        assertEquals("subnet", level0.value("mynetworks_style"));
        assertEquals("no", level0.value("smtpd_relay_before_recipient_restrictions"));
        ConfigSnapshot level36 = load("compatibility_level = 3.6\nmydestination = a.example\n");
        assertEquals("", level36.value("relay_domains"));
        assertEquals("permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
                level36.value("smtpd_relay_restrictions"));
        assertEquals("host", level36.value("mynetworks_style"));
        assertEquals("yes", level36.value("smtpd_relay_before_recipient_restrictions"));
        // levels compare part by part, not as text or decimals: 3.10 is above 3.9
        ConfigSnapshot s = load("x = ${{3.10} >level {3.9} ? {above} : {below}} ${{2} <=level {2.0} ? {le} : {gt}}\n");
        assertEquals("above le", s.value("x"));
        assertThrows(ConfigException.class, () -> load("x = ${{three} <level {2} ? {a} : {b}}\n"));
    }
}
