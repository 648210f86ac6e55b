use clap::Parser;

fn main() {
    let cli = latdyn::cli::Cli::parse();
    if let Err(e) = latdyn::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(match e {
            latdyn::Error::Parse { .. }
            | latdyn::Error::Dataset { .. }
            | latdyn::Error::Input(_) => 2,
            latdyn::Error::Io { .. } => 3,
            latdyn::Error::Numerical(_) => 4,
        });
    }
}
