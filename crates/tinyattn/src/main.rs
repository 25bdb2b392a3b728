fn main() -> std::process::ExitCode {
    tinyattn::cli::main()
}
