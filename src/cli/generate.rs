//! `completions SHELL` and `man`: documents generated from the clap
//! definitions themselves, so they never disagree with the parser.

use std::io::Write;

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::Roff;

use super::Cli;
use super::exit::{ExitCode, Failure, finish_output};

/// A shell completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "kms-s3-doctor", &mut out);
    finish_output(out.flush())?;
    Ok(ExitCode::Allowed)
}

/// The manual page (roff) on stdout.
pub fn man() -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    let written = render_man(&mut out);
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(ExitCode::Allowed)
}

/// One page with every subcommand and its flags. clap_mangen's whole-page
/// render lists subcommands as pointers to pages of their own
/// (`kms-s3-doctor-check(1)`), which only one `man` command cannot ship; so
/// the top-level sections are rendered as clap_mangen writes them, and each
/// subcommand's description, synopsis and options follow as a subsection.
fn render_man(out: &mut dyn Write) -> std::io::Result<()> {
    // `help` is clap's, not ours, and building sets each subcommand's
    // synopsis name to `kms-s3-doctor check` rather than `check`.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let top = Man::new(command.clone());
    let mut page = Vec::new();
    top.render_title(&mut page)?;
    top.render_name_section(&mut page)?;
    top.render_synopsis_section(&mut page)?;
    top.render_description_section(&mut page)?;
    top.render_options_section(&mut page)?;
    let mut text = roff_lines(&page, false);
    text.push_str(&Roff::default().control("SH", ["SUBCOMMANDS"]).to_roff());
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        text.push_str(&Roff::default().control("SS", [name]).to_roff());
        let sub_page = Man::new(sub.clone());
        let mut body = Vec::new();
        sub_page.render_description_section(&mut body)?;
        sub_page.render_synopsis_section(&mut body)?;
        sub_page.render_options_section(&mut body)?;
        text.push_str(&roff_lines(&body, true));
    }
    let mut version = Vec::new();
    top.render_version_section(&mut version)?;
    text.push_str(&roff_lines(&version, false));
    // The apostrophe preamble once, as a whole-page render writes it.
    let mut preamble = Vec::new();
    Roff::default().to_writer(&mut preamble)?;
    out.write_all(&preamble)?;
    out.write_all(text.as_bytes())
}

/// Rendered sections without the apostrophe preamble each separate render
/// repeats. Under a subcommand's `.SS`, its sections' `.SH` headings would
/// end the subsection and start top-level sections of the page, so they
/// become paragraph breaks (`demote`).
fn roff_lines(roff: &[u8], demote: bool) -> String {
    let text = String::from_utf8_lossy(roff);
    let mut kept = String::new();
    for line in text.lines() {
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            continue;
        }
        if demote && line.starts_with(".SH") {
            kept.push_str(".PP\n");
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> String {
        let mut out = Vec::new();
        render_man(&mut out).unwrap();
        // roff escapes every hyphen.
        String::from_utf8(out).unwrap().replace("\\-", "-")
    }

    #[test]
    fn the_man_page_documents_every_subcommand_and_its_flags() {
        let page = page();
        let command = Cli::command();
        for sub in command
            .get_subcommands()
            .filter(|sub| sub.get_name() != "help")
        {
            let name = sub.get_name();
            assert!(
                page.contains(&format!(".SS \"kms-s3-doctor {name}\"")),
                "no section for `{name}`"
            );
        }
        for name in ["check", "test", "snapshot", "explain"] {
            let sub = command.find_subcommand(name).unwrap();
            let longs: Vec<_> = sub
                .get_arguments()
                .filter_map(|arg| arg.get_long())
                .collect();
            assert!(longs.len() > 1, "`{name}` has flags");
            for long in longs {
                assert!(
                    page.contains(&format!("--{long}")),
                    "`{name} --{long}` missing"
                );
            }
        }
        // No pointer to a page that is not shipped.
        assert!(!page.contains("kms-s3-doctor-check(1)"), "{page}");
    }
}
