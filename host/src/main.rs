//! The `datasync` binary: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    datasync_host::cli::main()
}
