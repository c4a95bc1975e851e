//! What a new user reads from the command line: `serve` names every demo card the README and the
//! kiosk offer, and `reader demo --help` marks what it requires.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn kakunin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kakunin"))
}

#[test]
fn reader_demo_help_marks_the_card_photo_required() {
    let out = kakunin()
        .args(["reader", "demo", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let usage = help.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(usage.contains("--card-photo <CARD_PHOTO>"), "{usage}");
    assert!(!usage.contains("[--card-photo"), "{usage}");
}

#[test]
fn serve_lists_the_four_demo_cards() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = kakunin()
        .args([
            "serve",
            "--no-kiosk",
            "--demo-persons",
            "5",
            "--bind",
            "127.0.0.1:0",
        ])
        .arg("--database-url")
        .arg(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("k.db").display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("Demo cards"));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("serve printed its demo cards");
    for n in 1..=4 {
        assert!(line.contains(&format!("C0000000000{n}")), "{line}");
    }
}
