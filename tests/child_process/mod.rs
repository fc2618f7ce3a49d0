//! Running the test binary again as a child process, on the host or under the cargo runner.

/// The command that runs this test binary: directly, or through the cargo runner (e.g.
/// `qemu-aarch64 -L ...`) when the binary cannot be executed by itself.
pub fn self_command() -> std::process::Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let direct = std::process::Command::new(&exe)
        .arg("--list")
        .output()
        .is_ok_and(|o| o.status.success());
    if direct {
        return std::process::Command::new(exe);
    }
    let triple = format!(
        "CARGO_TARGET_{}_UNKNOWN_LINUX_GNU_RUNNER",
        std::env::consts::ARCH.to_uppercase()
    );
    let runner = std::env::var(&triple)
        .unwrap_or_else(|_| panic!("cannot execute {} and {triple} is not set", exe.display()));
    let mut parts = runner.split_whitespace();
    let mut cmd = std::process::Command::new(parts.next().expect("a runner program"));
    cmd.args(parts).arg(exe);
    cmd
}
