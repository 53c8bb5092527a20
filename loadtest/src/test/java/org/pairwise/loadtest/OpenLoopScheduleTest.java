package org.pairwise.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

    @Test
    void arrivalsAreDueAtAFixedRateFromTheStartWhateverHappens() {
        OpenLoopSchedule s = new OpenLoopSchedule(1_000, 4, Long.MAX_VALUE, Long.MAX_VALUE, 0, 1);
        List<Long> due = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            due.add(s.peekDue());
            assertEquals(i, s.take());
        }
        // 4 per second: every 250 ms, however late the caller was to take them.
        assertEquals(List.of(1_000L, 250_001_000L, 500_001_000L, 750_001_000L, 1_000_001_000L), due);
    }

    @Test
    void stridedSchedulesTogetherCoverEveryArrivalOnce() {
        int stride = 3;
        TreeSet<Long> all = new TreeSet<>();
        for (int offset = 0; offset < stride; offset++) {
            OpenLoopSchedule s = new OpenLoopSchedule(0, 1000, 100, Long.MAX_VALUE, offset, stride);
            long previousDue = -1;
            while (s.hasNext()) {
                long due = s.peekDue();
                assertTrue(due > previousDue);
                previousDue = due;
                long i = s.take();
                assertEquals(offset, i % stride);
                assertEquals(i * 1_000_000L, due);
                assertTrue(all.add(i), "arrival " + i + " twice");
            }
        }
        assertEquals(100, all.size());
        assertEquals(0, all.first());
        assertEquals(99, all.last());
    }

    @Test
    void theScheduleEndsAtItsCountOrItsEndTime() {
        OpenLoopSchedule byCount = new OpenLoopSchedule(0, 10, 3, Long.MAX_VALUE, 0, 1);
        int n = 0;
        while (byCount.hasNext()) {
            byCount.take();
            n++;
        }
        assertEquals(3, n);
        // 10/s for one second: arrivals due at 0, 0.1, ..., 0.9 s; the one due at 1.0 s is past the end.
        OpenLoopSchedule byTime = new OpenLoopSchedule(0, 10, Long.MAX_VALUE, 1_000_000_000L, 0, 1);
        n = 0;
        while (byTime.hasNext()) {
            byTime.take();
            n++;
        }
        assertEquals(10, n);
        assertFalse(new OpenLoopSchedule(0, 10, 0, Long.MAX_VALUE, 0, 1).hasNext());
    }

    @Test
    void badRatesAndOffsetsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 0, 1, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, Double.NaN, 1, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 1, 1, 1, 2, 2));
    }
}
