package sigwatch.luceneharness;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;

/**
 * Reads JSON-lines files (plain or gzip, told apart by their magic bytes, not their name) as
 * byte lines split on '\n' only (a trailing '\r' is dropped), numbering them 0, 1, 2, ... across
 * all files in order, and hands them to worker threads in batches.
 */
final class Lines {
    private Lines() {}

    /** One line: its global 0-based number, bytes [0, length) of data. */
    record Line(long number, byte[] data, int length, String file, long lineInFile) {
        boolean isBlank() {
            for (int i = 0; i < length; i++) {
                byte b = data[i];
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return true;
        }

        String where() {
            return file + ":" + lineInFile;
        }
    }

    /** Work done on each line by a worker; one instance per worker thread. */
    interface Worker {
        void line(Line line) throws Exception;
    }

    interface WorkerFactory {
        Worker create();
    }

    static InputStream open(Path path) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        in.mark(2);
        int b1 = in.read();
        int b2 = in.read();
        in.reset();
        if (b1 == 0x1f && b2 == 0x8b) {
            // Concatenated gzip members (as `cat a.gz b.gz` makes) are read through, like zcat.
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    /** Splits a stream into lines; calls the consumer with a fresh byte array per line. */
    static final class Splitter {
        private final InputStream in;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int end;
        private boolean eof;

        Splitter(InputStream in) {
            this.in = in;
        }

        /** Returns the next line without its '\n' (and without a final '\r'), or null at EOF. */
        byte[] next() throws IOException {
            byte[] acc = null;
            int accLen = 0;
            while (true) {
                if (pos == end) {
                    if (eof) {
                        return acc == null ? null : trim(acc, accLen);
                    }
                    int n = in.read(buf, 0, buf.length);
                    if (n < 0) {
                        eof = true;
                        continue;
                    }
                    pos = 0;
                    end = n;
                }
                int nl = -1;
                for (int i = pos; i < end; i++) {
                    if (buf[i] == '\n') {
                        nl = i;
                        break;
                    }
                }
                int stop = nl < 0 ? end : nl;
                int n = stop - pos;
                if (acc == null) {
                    acc = new byte[Math.max(n, 256)];
                } else if (accLen + n > acc.length) {
                    byte[] bigger = new byte[Math.max(acc.length * 2, accLen + n)];
                    System.arraycopy(acc, 0, bigger, 0, accLen);
                    acc = bigger;
                }
                System.arraycopy(buf, pos, acc, accLen, n);
                accLen += n;
                pos = stop;
                if (nl >= 0) {
                    pos = nl + 1;
                    return trim(acc, accLen);
                }
            }
        }

        private static byte[] trim(byte[] acc, int len) {
            if (len > 0 && acc[len - 1] == '\r') {
                len--;
            }
            byte[] out = new byte[len];
            System.arraycopy(acc, 0, out, 0, len);
            return out;
        }
    }

    private static final List<Line> END = new ArrayList<>();

    /**
     * Reads all files on the calling thread and runs the workers on {@code threads} threads.
     * Returns the number of lines read. The first exception of any worker stops everything and is
     * rethrown.
     */
    static long process(List<Path> files, int threads, WorkerFactory factory) throws Exception {
        BlockingQueue<List<Line>> queue = new ArrayBlockingQueue<>(threads * 4);
        AtomicReference<Exception> failure = new AtomicReference<>();
        List<Thread> pool = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Worker w = factory.create();
            Thread th = new Thread(() -> {
                try {
                    while (true) {
                        List<Line> batch = queue.take();
                        if (batch == END) {
                            return;
                        }
                        if (failure.get() != null) {
                            continue;
                        }
                        for (Line l : batch) {
                            w.line(l);
                        }
                    }
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                    // Keep draining so the reader never blocks forever.
                    try {
                        while (queue.take() != END) {
                            // discard
                        }
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "lines-worker-" + t);
            th.start();
            pool.add(th);
        }
        long number = 0;
        try {
            outer:
            for (Path f : files) {
                try (InputStream in = open(f)) {
                    Splitter s = new Splitter(in);
                    List<Line> batch = new ArrayList<>(512);
                    long inFile = 0;
                    byte[] data;
                    while ((data = s.next()) != null) {
                        inFile++;
                        batch.add(new Line(number++, data, data.length, f.toString(), inFile));
                        if (batch.size() == 512) {
                            queue.put(batch);
                            batch = new ArrayList<>(512);
                            if (failure.get() != null) {
                                break outer;
                            }
                        }
                    }
                    if (!batch.isEmpty()) {
                        queue.put(batch);
                    }
                }
            }
        } finally {
            for (int t = 0; t < threads; t++) {
                queue.put(END);
            }
            for (Thread th : pool) {
                th.join();
            }
        }
        Exception e = failure.get();
        if (e != null) {
            throw e;
        }
        return number;
    }
}
