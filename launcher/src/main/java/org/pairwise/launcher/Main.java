package org.pairwise.launcher;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pairwise} launcher: one subcommand per job. */
@Command(name = "pairwise", mixinStandardHelpOptions = true, version = "pairwise 0.1.0",
        description = "Online preference alignment (continual DPO) of language models.",
        subcommands = {GenerateCommand.class, ScoreCommand.class, TokenizeCommand.class, InfoCommand.class,
                BenchCommand.class, TrainCommand.class, MergeCommand.class, ServeCommand.class, LoadtestCommand.class})
public final class Main implements Runnable {

    /** Exit codes: 1 for a failure while running, 2 for bad usage (picocli's convention). */
    public static final int EXIT_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        TrainCommand.describeFields(cli.getSubcommands().get("train"));
        // A user error is one readable line, not a stack trace; PAIRWISE_DEBUG=1 shows the trace.
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("pairwise: error: " + oneLine(e));
            if (System.getenv("PAIRWISE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_FAILURE;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static String oneLine(Throwable e) {
        Throwable t = e;
        while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) {
            t = t.getCause();
        }
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof java.nio.file.NoSuchFileException) {
            msg = "no such file: " + msg;
        } else if (t instanceof OutOfMemoryError) {
            msg = "out of memory (" + msg + "); raise -Xmx through PAIRWISE_JAVA_OPTS";
        }
        return msg.replace('\n', ' ').strip();
    }
}
