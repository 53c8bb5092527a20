package org.pairwise.model.load;

import java.io.PrintStream;

/** A one-line progress bar redrawn in place with '\r': file name, bytes done / total, a bar and the percentage. */
final class DownloadProgress {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final String name;
    private final long total;
    private long done;
    private long lastDraw;

    /** @param out null draws nothing; @param total -1 when the server sent no length */
    DownloadProgress(PrintStream out, String name, long total) {
        this.out = out;
        this.name = name;
        this.total = total;
    }

    void advance(long bytes) {
        done += bytes;
        long now = System.nanoTime();
        if (out != null && now - lastDraw >= REDRAW_NANOS) {
            lastDraw = now;
            draw();
        }
    }

    void finish() {
        if (out != null) {
            draw();
            out.println();
            out.flush();
        }
    }

    private void draw() {
        StringBuilder line = new StringBuilder("\r").append(name).append(' ').append(size(done));
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            line.append(" / ").append(size(total)).append(" [").append("#".repeat(filled))
                    .append(".".repeat(WIDTH - filled)).append("] ").append(Math.min(100, done * 100 / total)).append('%');
        }
        out.print(line);
        out.flush();
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
