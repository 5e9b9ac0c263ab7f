package org.estafeta.tables.internal;

import org.estafeta.config.Slf4jSystemLogger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.util.List;

import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/** The plugin logger adapter (bundle config) as table plugins use it. */
class Slf4jSystemLoggerTest {
    @Test
    void levelsAndFormatsReachSlf4j() {
        var rec = new RecordingLogger("tables");
        System.Logger logger = new Slf4jSystemLogger("tables", rec);
        assertEquals("tables", logger.getName());
        assertTrue(logger.isLoggable(Level.WARNING));
        logger.log(Level.WARNING, "json:/x: line {0}: expected '','' after {1}", 3, "value");
        logger.log(Level.ERROR, "cannot open");
        logger.log(Level.INFO, "opened", new RuntimeException("x"));
        logger.log(Level.DEBUG, "detail");
        logger.log(Level.OFF, "never");
        assertEquals(List.of("WARN json:/x: line 3: expected ',' after value", "ERROR cannot open", "INFO opened",
                "DEBUG detail"), rec.lines());
    }
}
