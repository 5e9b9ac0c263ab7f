package org.estafeta.sample.jsontable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FlatJsonTest {
    @Test
    void readsStringsNumbersAndBooleans() {
        Map<String, String> m = FlatJson.parse("""
                {
                  "example.com": "smtp:[relay.example.com]:25",
                  "quoted": "a \\"b\\" \\u00e9\\n",
                  "n": 42, "f": -1.5e3, "t": true
                }
                """);
        assertEquals(Map.of("example.com", "smtp:[relay.example.com]:25", "quoted", "a \"b\" \u00e9\n",
                "n", "42", "f", "-1.5e3", "t", "true"), m);
    }

    @Test
    void emptyObject() {
        assertEquals(Map.of(), FlatJson.parse(" {} \n"));
    }

    @Test
    void errorsNameTheLine() {
        assertEquals("line 3: expected ',' or '}' but found '\"'",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{\n\"a\": \"1\"\n\"b\": \"2\"}")).getMessage());
        assertEquals("line 2: values must be strings, numbers or booleans, not objects",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{\n\"a\": {}}")).getMessage());
        assertEquals("line 1: duplicate key \"a\"",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{\"a\": 1, \"a\": 2}")).getMessage());
        assertEquals("line 1: null is not a table value; leave the key out instead",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{\"a\": null}")).getMessage());
        assertEquals("line 2: unexpected end of file, expected ',' or '}'",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{\"a\": 1\n")).getMessage());
        assertEquals("line 1: unexpected text after the closing '}'",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("{} x")).getMessage());
        assertEquals("line 1: expected '{' but found '['",
                assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("[]")).getMessage());
    }
}
