"""The command line's exit codes."""

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2  # all good; finished but some files not read or refreshed; nothing done
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE, EXIT_TERMINATED = 130, 141, 143  # 128 + the signal's number, as a shell reports it
