package org.pairwise.launcher;

import java.io.PrintWriter;
import java.util.List;
import org.pairwise.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/**
 * The {@code pairwise} launcher: one subcommand per job. Every subcommand inherits {@code -h}/{@code --help} (and
 * {@code -V}/{@code --version}); a subcommand whose settings are a config record gets one option per field from the
 * codec ({@link ConfigOptions}).
 */
@Command(name = "pairwise", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, version = "pairwise 0.1.0",
        description = "Online preference alignment (continual DPO) of language models.",
        subcommands = {GenerateCommand.class, ScoreCommand.class, TokenizeCommand.class, InfoCommand.class,
                BenchCommand.class, TrainCommand.class, MergeCommand.class, ServeCommand.class, LoadtestCommand.class})
public final class Main implements Runnable {

    /** Exit codes: 1 for a failure while running, 2 for bad usage (picocli's convention): a wrong flag or setting. */
    public static final int EXIT_FAILURE = 1, EXIT_USAGE = 2;

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
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** The CLI, every subcommand's options in place, errors as one line on {@code err}. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommand() instanceof ConfigOptions.Command c) {
                c.settings().addTo(sub.getCommandSpec());
            }
        }
        // Bad usage (picocli's own errors, and a setting the codec rejects) is one line and exit 2; a failure while
        // running is one line and exit 1. PAIRWISE_DEBUG=1 adds the stack trace.
        cli.setParameterExceptionHandler((e, a) -> fail(err, usage(e), e, EXIT_USAGE));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> fail(err, oneLine(e), e,
                e instanceof ConfigException ? EXIT_USAGE : EXIT_FAILURE));
        return cli;
    }

    private static int fail(PrintWriter err, String message, Exception e, int code) {
        err.println("pairwise: error: " + message);
        if (System.getenv("PAIRWISE_DEBUG") != null) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** picocli's message, in our form: lower case, one line, the unknown option quoted, and where help is. */
    static String usage(CommandLine.ParameterException e) {
        String msg;
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().getFirst();
            String what = first.startsWith("-") ? "unknown option '" + first.split("=", 2)[0]
                    : u.getCommandLine().getSubcommands().isEmpty() ? "unexpected argument '" + first
                    : "unknown subcommand '" + first;
            List<String> near = u.getSuggestions();
            msg = what + "'" + (near.isEmpty() ? "" : " (did you mean " + near.getFirst() + "?)");
        } else {
            msg = oneLine(e);
            if (msg.length() > 1 && Character.isUpperCase(msg.charAt(0)) && Character.isLowerCase(msg.charAt(1))) {
                msg = Character.toLowerCase(msg.charAt(0)) + msg.substring(1);
            }
        }
        return msg + "; see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'";
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
