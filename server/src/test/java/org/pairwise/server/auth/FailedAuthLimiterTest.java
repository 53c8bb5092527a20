package org.pairwise.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket against a hand-worked schedule on a fake clock, and its bound on memory. */
class FailedAuthLimiterTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void tenFailuresAMinuteThenOneEverySixSeconds() {
        AtomicLong now = new AtomicLong(0);
        FailedAuthLimiter l = new FailedAuthLimiter(10, 100, now::get);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, l.retryAfterSeconds("1.2.3.4"), "failure " + i + " still allowed");
            l.failed("1.2.3.4");
        }
        // Empty: the next token is 60 / 10 = 6 s away.
        assertEquals(6, l.retryAfterSeconds("1.2.3.4"));
        assertEquals(0, l.retryAfterSeconds("5.6.7.8"), "other clients are not affected");
        now.addAndGet(4 * SECOND);
        assertEquals(2, l.retryAfterSeconds("1.2.3.4"));
        now.addAndGet(2 * SECOND);
        assertEquals(0, l.retryAfterSeconds("1.2.3.4"));
        l.failed("1.2.3.4");
        assertEquals(6, l.retryAfterSeconds("1.2.3.4"));
        // A full minute refills the bucket, never beyond its size.
        now.addAndGet(3600 * SECOND);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, l.retryAfterSeconds("1.2.3.4"));
            l.failed("1.2.3.4");
        }
        assertTrue(l.retryAfterSeconds("1.2.3.4") > 0);
    }

    @Test
    void memoryIsBoundedByTheNumberOfClientsKept() {
        FailedAuthLimiter l = new FailedAuthLimiter(10, 1000, System::nanoTime);
        for (int i = 0; i < 100_000; i++) {
            l.failed("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255));
        }
        assertEquals(1000, l.tracked());
    }

    @Test
    void anIpv6ClientIsItsSlash64() {
        assertEquals(FailedAuthLimiter.clientOf("2001:db8:1:2:aaaa::1"), FailedAuthLimiter.clientOf(
                "2001:db8:1:2:bbbb:cccc:dddd:eeee"));
        assertTrue(!FailedAuthLimiter.clientOf("2001:db8:1:3::1").equals(FailedAuthLimiter.clientOf(
                "2001:db8:1:2::1")));
        assertEquals("127.0.0.1", FailedAuthLimiter.clientOf("127.0.0.1"));
    }
}
